// Readable names for the types generated from package faultline.inventory.v1 (src/generated/ is built, never edited).
// Convention: `X` is a message as you receive it (every field present: PROTO_LOADER_OPTIONS.defaults), `XInput`
// is the permissive shape you may send (fields optional). Enums are string unions of their value names.
export type { ProtoGrpcType as GrpcObject } from '../generated/inventory';
export type {
  InventoryServiceClient as Client,
  InventoryServiceHandlers as Handlers,
  InventoryServiceDefinition as Definition,
} from '../generated/faultline/inventory/v1/InventoryService';
export type { Product__Output as Product, Product as ProductInput } from '../generated/faultline/inventory/v1/Product';
export type {
  GetProductRequest__Output as GetProductRequest,
  GetProductRequest as GetProductRequestInput,
} from '../generated/faultline/inventory/v1/GetProductRequest';
export type {
  ListProductsRequest__Output as ListProductsRequest,
  ListProductsRequest as ListProductsRequestInput,
} from '../generated/faultline/inventory/v1/ListProductsRequest';
export type {
  ListProductsResponse__Output as ListProductsResponse,
  ListProductsResponse as ListProductsResponseInput,
} from '../generated/faultline/inventory/v1/ListProductsResponse';
export type {
  SetStockRequest__Output as SetStockRequest,
  SetStockRequest as SetStockRequestInput,
} from '../generated/faultline/inventory/v1/SetStockRequest';
