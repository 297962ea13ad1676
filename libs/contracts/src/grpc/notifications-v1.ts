// Readable names for the types generated from package faultline.notifications.v1 (src/generated/ is built, never
// edited). Convention: `X` is a message as you receive it (every field present: PROTO_LOADER_OPTIONS.defaults),
// `XInput` is the permissive shape you may send (fields optional). Enums are string unions of their value names.
import {
  NotificationKind as NotificationKindValues,
  type NotificationKind__Output,
} from '../generated/faultline/notifications/v1/NotificationKind';
export type { ProtoGrpcType as GrpcObject } from '../generated/notifications';
export type {
  NotificationsServiceClient as Client,
  NotificationsServiceHandlers as Handlers,
  NotificationsServiceDefinition as Definition,
} from '../generated/faultline/notifications/v1/NotificationsService';
export type {
  Notification__Output as Notification,
  Notification as NotificationInput,
} from '../generated/faultline/notifications/v1/Notification';
export type {
  ListNotificationsRequest__Output as ListNotificationsRequest,
  ListNotificationsRequest as ListNotificationsRequestInput,
} from '../generated/faultline/notifications/v1/ListNotificationsRequest';
export type {
  ListNotificationsResponse__Output as ListNotificationsResponse,
  ListNotificationsResponse as ListNotificationsResponseInput,
} from '../generated/faultline/notifications/v1/ListNotificationsResponse';
export const NotificationKind = NotificationKindValues;
export type NotificationKind = NotificationKind__Output;
