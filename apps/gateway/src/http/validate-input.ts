import type { z } from 'zod';
import { FieldError, ProblemException } from '../errors/problem-details';

/** Where an input came from; names the field in a 400 (`body` fields as paths, headers and params by name). */
export type InputLocation = 'body' | 'query' | 'path' | 'header';

/** `items[0].quantity` for body paths; a top-level problem with the body itself is `body`. */
export function fieldName(location: InputLocation, path: readonly PropertyKey[]): string {
  if (path.length === 0) return location;
  return path
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : index === 0 ? String(segment) : `.${String(segment)}`,
    )
    .join('');
}

export function fieldErrors(location: InputLocation, issues: readonly z.core.$ZodIssue[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        errors.push({ field: fieldName(location, [...issue.path, key]), message: 'unknown field' });
      continue;
    }
    errors.push({ field: fieldName(location, issue.path), message: issue.message });
  }
  return errors;
}

/**
 * Parses one input with its zod schema, or throws a 400 problem naming every offending field. Handlers only ever see
 * what this returned, never the raw request.
 */
export function validateInput<S extends z.ZodType>(schema: S, value: unknown, location: InputLocation): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ProblemException('validation', {
    detail: `The request ${location === 'path' ? 'path' : location} is invalid; see errors.`,
    errors: fieldErrors(location, result.error.issues),
  });
}

/** For a handler that validates several inputs at once and reports every offending field together. */
export function validationProblem(errors: FieldError[]): ProblemException {
  return new ProblemException('validation', { detail: 'The request is invalid; see errors.', errors });
}
