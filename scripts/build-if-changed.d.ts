// Types of scripts/build-if-changed.js for its test (the script itself is plain JavaScript, so it
// runs before anything is compiled).
export declare const inputFilesMax: number;
export interface BuildPart {
  name: 'server' | 'web';
  inputs(): string[];
  output: string;
  commands: string[][];
}
export declare function buildParts(root: string): BuildPart[];
export declare function inputsHash(root: string, files: string[]): string;
export declare function recordBuilt(root: string, part: string, hash: string): void;
export declare function staleParts(root: string): Array<{ part: BuildPart; hash: string }>;
