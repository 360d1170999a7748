// The private half of the Binance-compatible API (signed REST and the WebSocket API), as the
// route modules `registerBinanceApi` takes (listen-key user data streams too): one list, so the single process and a cluster gateway
// serve the same API.

import { binanceListenKeyRoutes } from './listen-keys.js';
import type { BinanceRouteModule } from './plugin.js';
import { binancePrivateRoutes } from './private-routes.js';
import { binanceWsApiRoute } from './ws-api.js';

export const binancePrivateModules: BinanceRouteModule[] = [
  async (scope) => {
    await scope.register(binancePrivateRoutes);
  },
  async (scope, binance) => {
    await scope.register(binanceWsApiRoute, { userStreams: binance.userStreams() });
  },
  async (scope, binance) => {
    await scope.register(binanceListenKeyRoutes, {
      userStreams: binance.userStreams(),
      hooks: binance.streamHooks,
    });
  },
];
