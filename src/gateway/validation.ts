// One validation path for REST and WebSocket: the same TypeBox schemas, compiled once by the
// TypeBox compiler, and the same `VALIDATION_FAILED` error naming the first field at fault. REST
// uses it as Fastify's validator compiler (body, query, params); the WebSocket dispatcher calls
// the compiled checks on each message.
import { Kind, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifySchemaCompiler } from 'fastify';
import { GatewayError } from './errors.js';

/** The first error of `value` against a compiled schema, as the one reply; `where` names the part. */
function failure(
  checker: ReturnType<typeof TypeCompiler.Compile>,
  value: unknown,
  where: string,
): GatewayError {
  const first = checker.Errors(value).First();
  const field = first === undefined ? '' : first.path.slice(1);
  return new GatewayError('VALIDATION_FAILED', `${field || where}: ${first?.message ?? 'invalid'}`, field);
}

/** A check that returns the value typed by its schema or throws 400 VALIDATION_FAILED. */
export function compileCheck<T extends TSchema>(schema: T, where = 'message'): (value: unknown) => Static<T> {
  const checker = TypeCompiler.Compile(schema);
  return (value: unknown): Static<T> => {
    if (checker.Check(value)) return value;
    throw failure(checker, value, where);
  };
}

/** Fastify's validator compiler: every route schema is TypeBox and is checked as WebSocket messages are. */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart, method, url }) => {
  // A plain JSON schema would need a second validator (and a second error path): refuse it at start.
  if (!(Kind in schema))
    throw new Error(`${method} ${url}: the ${httpPart} schema must be written with TypeBox`);
  const checker = TypeCompiler.Compile(schema);
  const where = httpPart ?? 'request';
  return (value: unknown) => (checker.Check(value) ? { value } : { error: failure(checker, value, where) });
};
