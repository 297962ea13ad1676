// Readable names for the types generated from package faultline.orders.v1 (src/generated/ is built, never edited).
// Convention: `X` is a message as you receive it (every field present: PROTO_LOADER_OPTIONS.defaults), `XInput`
// is the permissive shape you may send (fields optional). Enums are string unions of their value names.
import {
  OrderStatus as OrderStatusValues,
  type OrderStatus__Output,
} from '../generated/faultline/orders/v1/OrderStatus';
export type { ProtoGrpcType as GrpcObject } from '../generated/orders';
export type {
  OrdersServiceClient as Client,
  OrdersServiceHandlers as Handlers,
  OrdersServiceDefinition as Definition,
} from '../generated/faultline/orders/v1/OrdersService';
export type { Order__Output as Order, Order as OrderInput } from '../generated/faultline/orders/v1/Order';
export type {
  OrderItem__Output as OrderItem,
  OrderItem as OrderItemInput,
} from '../generated/faultline/orders/v1/OrderItem';
export type {
  OrderSummary__Output as OrderSummary,
  OrderSummary as OrderSummaryInput,
} from '../generated/faultline/orders/v1/OrderSummary';
export type {
  PlaceOrderRequest__Output as PlaceOrderRequest,
  PlaceOrderRequest as PlaceOrderRequestInput,
} from '../generated/faultline/orders/v1/PlaceOrderRequest';
export type {
  PlaceOrderResponse__Output as PlaceOrderResponse,
  PlaceOrderResponse as PlaceOrderResponseInput,
} from '../generated/faultline/orders/v1/PlaceOrderResponse';
export type {
  GetOrderRequest__Output as GetOrderRequest,
  GetOrderRequest as GetOrderRequestInput,
} from '../generated/faultline/orders/v1/GetOrderRequest';
export type {
  ListOrdersRequest__Output as ListOrdersRequest,
  ListOrdersRequest as ListOrdersRequestInput,
} from '../generated/faultline/orders/v1/ListOrdersRequest';
export type {
  ListOrdersResponse__Output as ListOrdersResponse,
  ListOrdersResponse as ListOrdersResponseInput,
} from '../generated/faultline/orders/v1/ListOrdersResponse';
export type {
  GetTopSellersRequest__Output as GetTopSellersRequest,
  GetTopSellersRequest as GetTopSellersRequestInput,
} from '../generated/faultline/orders/v1/GetTopSellersRequest';
export type {
  GetTopSellersResponse__Output as GetTopSellersResponse,
  GetTopSellersResponse as GetTopSellersResponseInput,
} from '../generated/faultline/orders/v1/GetTopSellersResponse';
export type {
  TopSeller__Output as TopSeller,
  TopSeller as TopSellerInput,
} from '../generated/faultline/orders/v1/TopSeller';
export const OrderStatus = OrderStatusValues;
export type OrderStatus = OrderStatus__Output;
