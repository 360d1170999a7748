// Demo mode: lists a few markets, opens funded demo accounts and runs two bots, so a first
// visitor sees a moving market. Everything goes through the exchange's own paths: accounts are
// registered over the REST API, and markets, deposits and orders are commands submitted to the
// sequencer (journaled, replayed, matched like anyone's). The bots are normal users.
//
// - A simulated reference-quote feed: a seeded random walk per market, in whole ticks.
// - The market maker keeps a ladder of `levels` bids and asks around the reference price,
//   cancelling levels that drifted out and placing missing ones.
// - The taker sometimes sends a small market order, which makes trades, candles and tickers move.
// - An account registered while the demo runs gets a starting balance (`newcomerFunding`), by
//   deposit commands from a registration hook, and the login page names the demo's logins.
// Rates are bounded: at most `commandsPerSecondMax` commands, spread over steps of `stepMs`.
import type { FastifyInstance } from 'fastify';
import type { Command, MatchingEngine, OrderView, Side } from '../core/types.js';
import type { Onboarding } from '../gateway/onboarding.js';
import type { QuoteTarget } from '../marketdata/feeds/feed.js';
import { SeededRandom } from '../marketdata/feeds/simulated.js';
import type { CommandSequencer } from '../ports.js';
import {
  type DemoMarket,
  demoMarket,
  demoMarketSpecs,
  fundingMinor,
  newcomerFunding,
  symbolCommand,
} from './markets.js';

/** The parts of a running exchange (`startExchange`'s handle) the demo drives. */
export interface DemoExchange {
  app: FastifyInstance;
  sequencer: CommandSequencer;
  engine: MatchingEngine;
  onboarding: Onboarding;
  logger: { info(object: object, message: string): void; warn(object: object, message: string): void };
}

export interface DemoOptions {
  /** Seed of every random choice (printed in the start-up log). */
  seed?: number;
  stepMs?: number;
  commandsPerSecondMax?: number;
  /** Maker levels per side. */
  levels?: number;
  /** Chance per step and market, in percent, that the taker trades. */
  takerChancePercent?: number;
  /** Funded accounts a visitor can log in with (password `password`). */
  visitorNames?: string[];
  password?: string;
  /** Stop by itself after this many steps (tests; Infinity runs until `stop`). */
  stepsMax?: number;
  /**
   * Where the simulated reference quotes also go (a QuoteIngest, so `quotes.<sym>` carries them).
   * Null: they only drive the bots. A full target drops the quote: the next step sends a newer one.
   */
  quotes?: QuoteTarget | null;
}

export interface DemoUser {
  username: string;
  userId: number;
}

export interface DemoHandle {
  readonly users: DemoUser[];
  readonly symbols: string[];
  /** Steps run so far. */
  readonly steps: number;
  /** Resolves once the bots have stopped (after `stop`, or after `stepsMax` steps). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export const demoDefaults: Required<DemoOptions> = {
  seed: 20_260_101,
  stepMs: 400,
  commandsPerSecondMax: 60,
  levels: 10,
  takerChancePercent: 45,
  visitorNames: ['alice', 'bob'],
  password: 'hoga-demo-password',
  stepsMax: Number.POSITIVE_INFINITY,
  quotes: null,
};

const makerName = 'demo-maker';
const takerName = 'demo-taker';
/** Top up a bot when an asset falls below this share of its funding target. */
const topUpBelowPercent = 40;
/** Steps between funding checks. */
const fundingCheckEverySteps = 25;

interface MarketState {
  market: DemoMarket;
  referenceTicks: number;
  /** Spacing of the maker's ladder, fixed at start so a move of one gap shifts it one level. */
  gapTicks: number;
}

/** Ladder spacing: 1/20000 of the price (half a basis point), at least one tick. */
const gapPriceDivisor = 20_000;

export async function startDemo(exchange: DemoExchange, options: DemoOptions = {}): Promise<DemoHandle> {
  const settings: Required<DemoOptions> = { ...demoDefaults, ...options };
  const random = new SeededRandom(settings.seed);
  const markets = demoMarketSpecs.map(demoMarket);
  const names = [makerName, takerName, ...settings.visitorNames];
  // Newcomers are welcomed from the first moment, not only once the bots run: the exchange
  // already answers while the demo starts, and a visitor who registers then must get money too.
  const listing = listMarkets(exchange, markets);
  const stopWelcoming = welcomeNewcomers(exchange, markets, settings, {
    ready: listing,
    ownNames: new Set(names),
  });
  try {
    await listing;
  } catch (error) {
    stopWelcoming();
    throw error;
  }
  const users: DemoUser[] = [];
  for (const username of names) users.push(await ensureUser(exchange, username, settings.password));
  for (const user of users) await fund(exchange, markets, user.userId, 100);
  exchange.logger.info(
    {
      seed: settings.seed,
      users: settings.visitorNames,
      symbols: markets.map((market) => market.spec.symbol),
    },
    'demo mode: markets listed, accounts funded, bots starting',
  );
  const bot = new DemoBot(exchange, settings, random, markets, users[0].userId, users[1].userId);
  bot.start();
  return {
    users,
    symbols: markets.map((market) => market.spec.symbol),
    get steps() {
      return bot.steps;
    },
    done: bot.done,
    stop: async () => {
      stopWelcoming();
      await bot.stop();
    },
  };
}

interface Welcome {
  /** Settles once the demo's markets (and so their assets) exist; deposits wait for it. */
  ready: Promise<void>;
  /** The demo's own accounts, funded by the demo itself. */
  ownNames: ReadonlySet<string>;
}

/**
 * Funds every account registered from now on with `newcomerFunding` (before its registration is
 * answered, so the first screen shows money) and names the demo logins on the login page. A
 * registration that arrives while the markets are still being listed waits for them.
 */
function welcomeNewcomers(
  exchange: DemoExchange,
  markets: DemoMarket[],
  settings: Required<DemoOptions>,
  welcome: Welcome,
) {
  const decimals = assetDecimals(markets);
  const removeHook = exchange.onboarding.onRegistered(async (user) => {
    if (welcome.ownNames.has(user.username)) return;
    await welcome.ready;
    for (const [asset, places] of decimals) {
      const amount = fundingMinor(asset, places, newcomerFunding);
      if (amount === 0) continue;
      const { rejectCode } = await submit(exchange, { op: 'deposit', user: user.userId, asset, amount });
      if (rejectCode !== undefined) throw new Error(`DEMO_NEWCOMER_DEPOSIT_REJECTED: ${asset} ${rejectCode}`);
    }
    exchange.logger.info({ userId: user.userId }, 'demo mode: new account funded');
  });
  exchange.onboarding.announceDemo({
    logins: settings.visitorNames.map((username) => ({ username, password: settings.password })),
    startingBalances: [...decimals.keys()]
      .filter((asset) => newcomerFunding[asset] !== undefined)
      .map((asset) => ({ asset, amount: newcomerFunding[asset] })),
  });
  return () => {
    removeHook();
    exchange.onboarding.announceDemo(null);
  };
}

/** Every asset of the demo markets with its decimals. */
function assetDecimals(markets: DemoMarket[]): Map<string, number> {
  const decimals = new Map<string, number>();
  for (const { spec } of markets) {
    decimals.set(spec.base, spec.baseDecimals);
    decimals.set(spec.quote, spec.quoteDecimals);
  }
  return decimals;
}

async function submit(exchange: DemoExchange, command: Command) {
  const outcome = await exchange.sequencer.submit(command);
  const rejected = outcome.events.find((event) => event.ev === 'rejected');
  return { outcome, rejectCode: rejected?.ev === 'rejected' ? rejected.reason : undefined };
}

async function listMarkets(exchange: DemoExchange, markets: DemoMarket[]): Promise<void> {
  const listed = new Set(exchange.engine.symbols().map((symbol) => symbol.symbol));
  for (const market of markets) {
    if (listed.has(market.spec.symbol)) continue;
    const { rejectCode } = await submit(exchange, symbolCommand(market));
    if (rejectCode !== undefined)
      throw new Error(`DEMO_SYMBOL_REJECTED: ${market.spec.symbol} ${rejectCode}`);
  }
}

/**
 * Registers through the public API, as a visitor would. An account left by an earlier run (same
 * data dir) is found by logging in, and that session is ended again at once.
 */
async function ensureUser(exchange: DemoExchange, username: string, password: string): Promise<DemoUser> {
  const payload = { username, password };
  const created = await exchange.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload });
  if (created.statusCode === 201) return { username, userId: (created.json() as { userId: number }).userId };
  const login = await exchange.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload });
  if (login.statusCode !== 200) {
    throw new Error(`DEMO_ACCOUNT_FAILED: ${username}: register ${created.body}, login ${login.body}`);
  }
  const { userId, token } = login.json() as { userId: number; token: string };
  await exchange.app.inject({
    method: 'POST',
    url: '/api/v1/auth/logout',
    headers: { authorization: `Bearer ${token}` },
  });
  return { username, userId };
}

/** Deposits so each asset of every demo market reaches its target, when below `belowPercent` of it. */
async function fund(exchange: DemoExchange, markets: DemoMarket[], user: number, belowPercent: number) {
  for (const [asset, places] of assetDecimals(markets)) {
    const target = fundingMinor(asset, places);
    const balance = exchange.engine.balance(user, asset);
    const held = balance.available + balance.locked;
    if (target === 0 || held * 100 >= target * belowPercent) continue;
    await submit(exchange, { op: 'deposit', user, asset, amount: target - held });
  }
}

class DemoBot {
  steps = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly states: MarketState[];
  private readonly commandsPerStepMax: number;
  private budget = 0;
  private finish: () => void = () => undefined;
  readonly done = new Promise<void>((resolve) => {
    this.finish = resolve;
  });

  constructor(
    private readonly exchange: DemoExchange,
    private readonly settings: Required<DemoOptions>,
    private readonly random: SeededRandom,
    private readonly markets: DemoMarket[],
    private readonly maker: number,
    private readonly taker: number,
  ) {
    this.states = markets.map((market) => {
      const referenceTicks = this.resumeTicks(market);
      return { market, referenceTicks, gapTicks: Math.max(1, Math.floor(referenceTicks / gapPriceDivisor)) };
    });
    this.commandsPerStepMax = Math.max(
      1,
      Math.floor((settings.commandsPerSecondMax * settings.stepMs) / 1_000),
    );
  }

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    this.finish();
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.steps >= this.settings.stepsMax) {
      this.stopped = true;
      this.finish();
      return;
    }
    this.timer = setTimeout(() => {
      this.running = this.step().then(
        () => this.schedule(),
        (error: unknown) => this.failed(error),
      );
    }, this.settings.stepMs);
    this.timer.unref();
  }

  private failed(error: unknown): void {
    if (this.stopped) return;
    const code = (error as { code?: unknown }).code;
    // A full queue is back-pressure: skip this step and try again on the next one.
    if (code !== 'QUEUE_FULL') this.exchange.logger.warn({ err: error }, 'demo step failed');
    this.schedule();
  }

  /** Restarting on an existing book: continue from its mid price instead of the spec's start. */
  private resumeTicks(market: DemoMarket): number {
    const depth = this.exchange.engine.depth(market.spec.symbol, 1);
    const bid = depth?.bids[0]?.[0];
    const ask = depth?.asks[0]?.[0];
    if (bid === undefined || ask === undefined) return market.startTicks;
    return Math.round((bid + ask) / 2 / market.scale.tickSizeMinor);
  }

  private async step(): Promise<void> {
    this.steps += 1;
    if (this.steps % fundingCheckEverySteps === 0) {
      await fund(this.exchange, this.markets, this.maker, topUpBelowPercent);
      await fund(this.exchange, this.markets, this.taker, topUpBelowPercent);
    }
    const open = this.exchange.engine.openOrders(this.maker);
    // Each market gets an equal share of the step's command budget, the taker's order first.
    const share = Math.max(1, Math.floor(this.commandsPerStepMax / this.states.length));
    for (const state of this.states) {
      if (this.stopped) return;
      this.budget = share;
      this.walk(state);
      this.publishQuote(state);
      if (this.random.below(100) < this.settings.takerChancePercent) await this.take(state);
      const mine = open.filter((order) => order.symbol === state.market.spec.symbol);
      await this.requote(state, mine);
    }
  }

  /** The simulated reference quote: a random walk of one ladder gap down, none or up per step. */
  private walk(state: MarketState): void {
    const move = (this.random.below(3) - 1) * state.gapTicks;
    const floorTicks = (this.settings.levels + 2) * state.gapTicks;
    state.referenceTicks = Math.max(floorTicks, state.referenceTicks + move);
  }

  /** The reference quote in quote minor units per lot, stamped now (the demo runs in real time). */
  private publishQuote(state: MarketState): void {
    const { spec, scale } = state.market;
    this.settings.quotes?.push({
      symbol: spec.symbol,
      country: spec.country,
      timezone: spec.timezone,
      tsNs: BigInt(Date.now()) * 1_000_000n + BigInt(this.steps % 1_000_000),
      price: state.referenceTicks * scale.tickSizeMinor,
      size: 1,
    });
  }

  /** Price levels (engine minor units per lot) the maker wants on one side, best first. */
  private ladder(state: MarketState, side: Side): number[] {
    const tickMinor = state.market.scale.tickSizeMinor;
    const prices: number[] = [];
    for (let level = 0; level < this.settings.levels; level += 1) {
      const offset = state.gapTicks * (level + 1);
      const ticks = side === 'buy' ? state.referenceTicks - offset : state.referenceTicks + offset;
      prices.push(ticks * tickMinor);
    }
    return prices;
  }

  private async requote(state: MarketState, mine: OrderView[]): Promise<void> {
    for (const side of ['buy', 'sell'] as const) {
      const wanted = this.ladder(state, side);
      const wantedSet = new Set(wanted);
      const resting = mine.filter((order) => order.side === side);
      for (const order of resting) {
        if (!wantedSet.has(order.price)) await this.send({ op: 'cancel', user: this.maker, id: order.id });
      }
      const have = new Set(resting.map((order) => order.price));
      for (const price of wanted) {
        if (have.has(price)) continue;
        const { lotsMin, lotsMax } = state.market.spec;
        const qty = lotsMin + this.random.below(lotsMax - lotsMin + 1);
        await this.send({
          op: 'place',
          user: this.maker,
          symbol: state.market.spec.symbol,
          side,
          type: 'limit',
          price,
          qty,
          tif: 'GTC',
        } as Command);
      }
    }
  }

  private async take(state: MarketState): Promise<void> {
    const { lotsMin, lotsMax } = state.market.spec;
    const qty = lotsMin + this.random.below(Math.max(1, Math.floor((lotsMax - lotsMin) / 3)) + 1);
    const side: Side = this.random.below(2) === 0 ? 'buy' : 'sell';
    await this.send({
      op: 'place',
      user: this.taker,
      symbol: state.market.spec.symbol,
      side,
      type: 'market',
      qty,
      tif: 'IOC',
    } as Command);
  }

  /** Submits unless this step's command budget is spent (the rate bound). */
  private async send(command: Command): Promise<void> {
    if (this.budget <= 0 || this.stopped) return;
    this.budget -= 1;
    await submit(this.exchange, command);
  }
}
