// The private half of the Binance-compatible API (signed REST and the WebSocket API), as the
// route modules `registerBinanceApi` takes: one list, so the single process and a cluster gateway
// serve the same API.
import type { BinanceRouteModule } from './plugin.js';
import { binancePrivateRoutes } from './private-routes.js';
import { binanceWsApiRoute } from './ws-api.js';

export const binancePrivateModules: BinanceRouteModule[] = [
  async (scope) => {
    await scope.register(binancePrivateRoutes);
  },
  async (scope) => {
    await scope.register(binanceWsApiRoute);
  },
];
