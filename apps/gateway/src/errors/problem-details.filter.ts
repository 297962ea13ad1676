import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LOGGER, type Logger } from '@faultline/observability';
import { GATEWAY_CONFIG, GatewayConfig } from '../gateway.config';
import { GrpcCallError } from '../grpc/grpc-call';
import { grpcStatusToHttp } from '../grpc/grpc-status-to-http';
import { traceContextOf } from '../http/trace-context';
import { allowedMethods } from '../openapi/openapi.document';
import {
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPES,
  problemBody,
  ProblemException,
  ProblemInit,
  ProblemKind,
} from './problem-details';

interface Answer extends ProblemInit {
  kind: ProblemKind;
  /** Logged, never sent: what really happened. */
  log?: { level: 'info' | 'warn' | 'error'; fields: Record<string, unknown>; message: string };
}

// Errors Express's body parsers raise (http-errors), by their `type`.
const PARSER_ERRORS: Record<string, Answer> = {
  'entity.parse.failed': { kind: 'malformedJson', detail: 'The request body is not a valid JSON object.' },
  'entity.too.large': { kind: 'payloadTooLarge', detail: 'The request body is too large.' },
  'encoding.unsupported': { kind: 'unsupportedMediaType', detail: 'The request body encoding is not supported.' },
  'charset.unsupported': { kind: 'unsupportedMediaType', detail: 'Request bodies must be UTF-8 JSON.' },
};

function kindForStatus(status: number): ProblemKind {
  const found = (Object.keys(PROBLEM_TYPES) as ProblemKind[]).find((kind) => PROBLEM_TYPES[kind].status === status);
  if (found) return found;
  return status >= 500 ? 'internal' : 'badRequest';
}

/**
 * Every error the gateway answers goes through here, once: problem+json (RFC 9457) with the request's traceId. The
 * caller gets a status, a fixed title and a detail written by gateway code; stacks, dependency messages and internal
 * addresses go to the log only.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  catch(exception: unknown, host: ArgumentsHost) {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const answer = this.answer(exception, req);
    const log = (req as Request & { log?: Logger }).log ?? this.logger;
    if (answer.log) log[answer.log.level](answer.log.fields, answer.log.message);
    if (res.headersSent) return;

    const { traceId } = traceContextOf(req, res);
    res.removeHeader('X-Powered-By');
    const body = problemBody(answer.kind, answer.detail, traceId, answer.errors);
    for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
    res.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  }

  private answer(exception: unknown, req: Request): Answer {
    if (exception instanceof ProblemException) return { kind: exception.kind, ...exception.init };

    if (exception instanceof GrpcCallError) {
      const mapped = grpcStatusToHttp(exception.code);
      const fields = {
        dependency: exception.service,
        method: exception.method,
        grpcCode: exception.code,
        grpcDetails: exception.grpcDetails,
      };
      return {
        kind: mapped.kind,
        detail: exception.callerDetails[exception.code as keyof typeof exception.callerDetails] ?? mapped.detail,
        headers: mapped.retryAfter ? { 'Retry-After': String(this.config.UNAVAILABLE_RETRY_AFTER_SECONDS) } : undefined,
        log: {
          level: mapped.status >= 500 ? 'warn' : 'info',
          fields,
          message: `${exception.service}.${exception.method} failed`,
        },
      };
    }

    const parserType = (exception as { type?: unknown } | null)?.type;
    if (typeof parserType === 'string' && PARSER_ERRORS[parserType]) return PARSER_ERRORS[parserType];

    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) {
        // Nest's not-found handler: no route matched. A path we serve with another method is 405 with Allow.
        const allowed = allowedMethods(req.path);
        if (allowed.length > 0) {
          return {
            kind: 'methodNotAllowed',
            detail: `This path accepts ${allowed.join(', ')}.`,
            headers: { Allow: allowed.join(', ') },
          };
        }
        return { kind: 'notFound', detail: 'No such route.' };
      }
      if (status === 400) {
        // Nest turns the body parser's SyntaxError (and a path's malformed %-encoding, a URIError) into a bare 400.
        const jsonBody = /^application\/json/i.test(req.header('content-type') ?? '');
        return jsonBody
          ? { kind: 'malformedJson', detail: 'The request body is not a valid JSON object.' }
          : { kind: 'badRequest', detail: 'The request could not be parsed.' };
      }
      const kind = kindForStatus(status);
      return {
        kind,
        detail: PROBLEM_TYPES[kind].title + '.',
        log: { level: 'info', fields: { status }, message: 'HTTP exception' },
      };
    }

    return {
      kind: 'internal',
      detail: 'An unexpected error occurred; quote the traceId when reporting it.',
      log: { level: 'error', fields: { err: exception }, message: 'unhandled error' },
    };
  }
}
