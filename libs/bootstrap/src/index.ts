export { runService, EXIT_CONFIG, type ServiceDefinition, type ServiceKit } from './run-service';
export { GrpcHealthController } from './grpc-health.controller';
export { DomainError, GrpcErrorFilter, type DomainErrorCode } from './grpc-errors';
