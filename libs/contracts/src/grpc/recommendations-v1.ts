// Readable names for the types generated from package faultline.recommendations.v1 (src/generated/ is built, never
// edited). Convention: `X` is a message as you receive it (every field present: PROTO_LOADER_OPTIONS.defaults),
// `XInput` is the permissive shape you may send (fields optional). Enums are string unions of their value names.
export type { ProtoGrpcType as GrpcObject } from '../generated/recommendations';
export type {
  RecommendationsServiceClient as Client,
  RecommendationsServiceHandlers as Handlers,
  RecommendationsServiceDefinition as Definition,
} from '../generated/faultline/recommendations/v1/RecommendationsService';
export type {
  Recommendation__Output as Recommendation,
  Recommendation as RecommendationInput,
} from '../generated/faultline/recommendations/v1/Recommendation';
export type {
  GetRecommendationsRequest__Output as GetRecommendationsRequest,
  GetRecommendationsRequest as GetRecommendationsRequestInput,
} from '../generated/faultline/recommendations/v1/GetRecommendationsRequest';
export type {
  GetRecommendationsResponse__Output as GetRecommendationsResponse,
  GetRecommendationsResponse as GetRecommendationsResponseInput,
} from '../generated/faultline/recommendations/v1/GetRecommendationsResponse';
