// Candles and volume with lightweight-charts: history from `GET /api/v1/candles`, then live from
// `candles.<symbol>.<interval>` (the exchange's own trades; quote-feed candles are another series
// and never drawn here). The chart library plots in floating point; prices reach it only as
// parsed display positions, never as arithmetic inputs, and its axis labels use the symbol's tick
// size with thousands separators.

import {
  type CandlestickData,
  CandlestickSeries,
  createChart,
  type HistogramData,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Candle, type SymbolInfo } from '../api.js';
import { type CandleInterval, candleIntervals, channelNames, readCandle } from '../channels.js';
import { pricePlaces, useApp } from '../context.js';
import { formatDecimal } from '../decimal.js';
import { type SymbolUnits, unitsFor } from '../units.js';

/** Bars kept in the chart; older ones scroll out of memory. */
export const chartBarsMax = 2_000;
/** Bars of history loaded when the chart opens: more than a wide screen shows. */
export const chartHistoryBars = 300;
/** One page of history: the server's page size bound is 999. */
const historyPageMax = 500;

/** Nominal length of each interval; days and weeks follow local midnight, so this is a bound. */
const intervalMs: Record<CandleInterval, number> = {
  '1s': 1_000,
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '1d': 90_000_000,
  '1w': 608_400_000,
};

const upColour = '#1fbf75';
const downColour = '#f0506e';

function toBar(candle: Candle): CandlestickData<UTCTimestamp> {
  return {
    time: Math.floor(candle.timeMs / 1000) as UTCTimestamp,
    open: Number(candle.open),
    high: Number(candle.high),
    low: Number(candle.low),
    close: Number(candle.close),
  };
}

function toVolume(candle: Candle): HistogramData<UTCTimestamp> {
  const rising = Number(candle.close) >= Number(candle.open);
  return {
    time: Math.floor(candle.timeMs / 1000) as UTCTimestamp,
    value: Number(candle.volume),
    color: rising ? 'rgba(31,191,117,0.45)' : 'rgba(240,80,110,0.45)',
  };
}

/** An axis label: the symbol's price places and thousands separators (1,234,567.50). */
export function axisPrice(price: number, places: number): string {
  return formatDecimal(price.toFixed(places), places);
}

/**
 * History and live candles merged by open time: a live candle replaces the stored one of the same
 * open time (it is as new or newer), so the merge has no duplicates whatever order the two arrive
 * in. At most `chartBarsMax` bars are kept (and as many live open times).
 */
export function mergeCandles(bars: Map<number, Candle>, history: Candle[], live: Set<number>): void {
  for (const candle of history) if (!live.has(candle.timeMs)) bars.set(candle.timeMs, candle);
  const sorted = [...bars.keys()].sort((left, right) => left - right);
  for (const old of sorted.slice(0, Math.max(0, sorted.length - chartBarsMax))) {
    bars.delete(old);
    live.delete(old);
  }
}

interface ChartParts {
  chart: IChartApi;
  candles: ISeriesApi<'Candlestick'>;
  volume: ISeriesApi<'Histogram'>;
}

function buildChart(container: HTMLElement, info: SymbolInfo): ChartParts {
  const chart = createChart(container, {
    autoSize: true,
    layout: { background: { color: 'transparent' }, textColor: '#9aa4b2', attributionLogo: false },
    grid: { vertLines: { color: 'rgba(255,255,255,0.04)' }, horzLines: { color: 'rgba(255,255,255,0.04)' } },
    timeScale: {
      timeVisible: true,
      secondsVisible: true,
      borderColor: '#263042',
      barSpacing: 9,
      rightOffset: 4,
    },
    rightPriceScale: { borderColor: '#263042' },
  });
  const places = pricePlaces(info);
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: upColour,
    downColor: downColour,
    borderVisible: false,
    wickUpColor: upColour,
    wickDownColor: downColour,
    priceFormat: {
      type: 'custom',
      minMove: Number(info.tickSize),
      formatter: (price: number) => axisPrice(price, places),
    },
  });
  const volume = chart.addSeries(HistogramSeries, {
    priceScaleId: 'volume',
    priceFormat: { type: 'volume' },
    lastValueVisible: false,
    priceLineVisible: false,
  });
  chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
  return { chart, candles, volume };
}

/** The closed candles of the last `chartHistoryBars` intervals, oldest first (empty on failure). */
async function loadHistory(
  info: SymbolInfo,
  interval: CandleInterval,
  units: SymbolUnits,
): Promise<Candle[]> {
  const fromMs = Math.max(0, Date.now() - chartHistoryBars * intervalMs[interval]);
  const page = await api.candles(info.symbol, interval, fromMs, historyPageMax);
  if (!page.ok) return [];
  return page.value.items.flatMap((item) => {
    const candle = readCandle({ ...item, closed: true }, units);
    return candle === undefined ? [] : [candle];
  });
}

export function CandleChart({ info }: { info: SymbolInfo }) {
  const { socket } = useApp();
  const container = useRef<HTMLDivElement>(null);
  const [interval, chooseInterval] = useState<CandleInterval>('1m');
  const [latest, setLatest] = useState<{ bars: number; history: number; close: string; volume: string }>({
    bars: 0,
    history: 0,
    close: '',
    volume: '',
  });

  useEffect(() => {
    if (!container.current) return;
    const parts = buildChart(container.current, info);
    const units = unitsFor(info);
    const bars = new Map<number, Candle>();
    /** Open times that came from the live channel since the last history load. */
    const live = new Set<number>();
    let lastTime = 0;
    let historyBars = 0;
    let disposed = false;
    const redraw = () => {
      const sorted = [...bars.values()].sort((a, b) => a.timeMs - b.timeMs);
      parts.candles.setData(sorted.map(toBar));
      parts.volume.setData(sorted.map(toVolume));
      const last = sorted.at(-1);
      lastTime = last?.timeMs ?? 0;
      setLatest({
        bars: sorted.length,
        history: historyBars,
        close: last?.close ?? '',
        volume: last?.volume ?? '',
      });
    };
    // History is asked for once the live channel is subscribed (its snapshot arrived): a candle
    // that closes later comes live, and the server stores every candle closed before it answers.
    const reload = () => {
      live.clear();
      void loadHistory(info, interval, units).then((history) => {
        if (disposed) return;
        historyBars = history.length;
        mergeCandles(bars, history, live);
        redraw();
      });
    };
    const unsubscribe = socket.subscribe(channelNames.candles(info.symbol, interval), {
      onReset: () => undefined,
      onMessage: (message) => {
        const candle = readCandle(message.data, units);
        if (message.snapshot) reload();
        if (!candle || candle.timeMs < lastTime) return;
        bars.set(candle.timeMs, candle);
        live.add(candle.timeMs);
        if (bars.size > chartBarsMax) {
          const oldest = Math.min(...bars.keys());
          bars.delete(oldest);
          live.delete(oldest);
        }
        lastTime = candle.timeMs;
        parts.candles.update(toBar(candle));
        parts.volume.update(toVolume(candle));
        setLatest({ bars: bars.size, history: historyBars, close: candle.close, volume: candle.volume });
      },
    });
    return () => {
      disposed = true;
      unsubscribe();
      parts.chart.remove();
    };
  }, [socket, info, interval]);

  return (
    <div class="chart-wrap">
      <fieldset class="interval-switch">
        <legend class="visually-hidden">Candle interval</legend>
        {candleIntervals.map((option) => (
          <button
            key={option}
            type="button"
            class={option === interval ? 'chip active' : 'chip'}
            aria-pressed={option === interval}
            onClick={() => chooseInterval(option)}
          >
            {option}
          </button>
        ))}
      </fieldset>
      <div
        class="chart"
        ref={container}
        data-testid="chart"
        data-bars={latest.bars}
        data-history-bars={latest.history}
        data-last-close={latest.close}
        data-last-volume={latest.volume}
        role="img"
        aria-label={`${info.symbol} ${interval} candles${latest.close ? `, last close ${formatDecimal(latest.close, pricePlaces(info))}` : ''}`}
      />
    </div>
  );
}
