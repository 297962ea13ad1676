// The only public surface of @faultline/load: the open-model load generator that chaos runs, `lab load`, the bench
// and `lab migrate` drive the public API with, and the customers' tokens it signs.
export {
  customerTokens,
  LOAD_MIXES,
  LOAD_ROUTES,
  LOAD_SKU_COUNT,
  loadSku,
  percentile,
  retryRefused,
  runLoad,
  summarize,
  type LoadMix,
  type LoadOptions,
  type LoadResult,
  type RequestRecord,
} from './load-generator';
export { mintToken, TokenRequestError, type TokenOptions, type TokenSigner } from './tokens';
