// Types of scripts/check-cycles.js for its test (the script itself is plain JavaScript, so it runs
// before anything is compiled).
export declare function importsOf(file: string): string[];
export declare function buildGraph(roots: string[]): Map<string, string[]>;
export declare function findCycles(graph: Map<string, string[]>): string[][];
export declare function cyclePath(graph: Map<string, string[]>, component: string[]): string[];
export declare function layerViolations(graph: Map<string, string[]>, root: string): string[];
