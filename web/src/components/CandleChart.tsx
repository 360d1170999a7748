// Candles and volume with lightweight-charts, live from `candles.<symbol>.<interval>`.
// The chart library plots in floating point; prices reach it only as parsed display positions,
// never as arithmetic inputs, and its axis labels use the symbol's tick size.

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
import type { Candle, PublicTrade, SymbolInfo } from '../api.js';
import { type CandleInterval, candleIntervals, channelNames, readCandle, readTrades } from '../channels.js';
import { pricePlaces, useApp } from '../context.js';
import { addDecimal, compareDecimal } from '../decimal.js';
import { unitsFor } from '../units.js';

/** Bars kept in the chart; older ones scroll out of memory. */
export const chartBarsMax = 2_000;

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

/** Intervals whose candles start on the same instants in every whole-hour timezone. */
const backfillIntervalMs: Partial<Record<CandleInterval, number>> = {
  '1s': 1_000,
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
};

/**
 * Candles rebuilt from the recent trade tape, so the chart has a past as soon as it opens.
 * Exact: high/low by decimal comparison, volume by decimal addition. Live candles replace these.
 */
export function candlesFromTrades(trades: PublicTrade[], intervalMs: number): Candle[] {
  const candles = new Map<number, Candle>();
  for (const trade of [...trades].sort((a, b) => a.timeMs - b.timeMs)) {
    const timeMs = Math.floor(trade.timeMs / intervalMs) * intervalMs;
    const candle = candles.get(timeMs);
    if (!candle) {
      candles.set(timeMs, {
        timeMs,
        open: trade.price,
        high: trade.price,
        low: trade.price,
        close: trade.price,
        volume: trade.qty,
        closed: false,
      });
      continue;
    }
    if (compareDecimal(trade.price, candle.high) > 0) candle.high = trade.price;
    if (compareDecimal(trade.price, candle.low) < 0) candle.low = trade.price;
    candle.close = trade.price;
    candle.volume = addDecimal(candle.volume, trade.qty) ?? candle.volume;
  }
  return [...candles.values()];
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
    priceFormat: { type: 'price', precision: places, minMove: Number(info.tickSize) },
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

export function CandleChart({ info }: { info: SymbolInfo }) {
  const { socket } = useApp();
  const container = useRef<HTMLDivElement>(null);
  const [interval, chooseInterval] = useState<CandleInterval>('1m');
  const [latest, setLatest] = useState<{ bars: number; close: string; volume: string }>({
    bars: 0,
    close: '',
    volume: '',
  });

  useEffect(() => {
    if (!container.current) return;
    const parts = buildChart(container.current, info);
    const units = unitsFor(info);
    const bars = new Map<number, Candle>();
    let lastTime = 0;
    const redraw = () => {
      const sorted = [...bars.values()].sort((a, b) => a.timeMs - b.timeMs);
      for (const old of sorted.splice(0, Math.max(0, sorted.length - chartBarsMax))) bars.delete(old.timeMs);
      parts.candles.setData(sorted.map(toBar));
      parts.volume.setData(sorted.map(toVolume));
      const last = sorted.at(-1);
      lastTime = last?.timeMs ?? 0;
      setLatest({ bars: sorted.length, close: last?.close ?? '', volume: last?.volume ?? '' });
    };
    const backfillMs = backfillIntervalMs[interval];
    const unsubscribeTrades = socket.subscribe(channelNames.trades(info.symbol), {
      onReset: () => undefined,
      onMessage: (message) => {
        if (!message.snapshot || backfillMs === undefined) return;
        for (const candle of candlesFromTrades(readTrades(message.data, units), backfillMs)) {
          if (!bars.has(candle.timeMs)) bars.set(candle.timeMs, candle);
        }
        redraw();
      },
    });
    const unsubscribe = socket.subscribe(channelNames.candles(info.symbol, interval), {
      onReset: () => undefined,
      onMessage: (message) => {
        const candle = readCandle(message.data, units);
        if (!candle || candle.timeMs < lastTime) return;
        bars.set(candle.timeMs, candle);
        if (bars.size > chartBarsMax) bars.delete(Math.min(...bars.keys()));
        lastTime = candle.timeMs;
        parts.candles.update(toBar(candle));
        parts.volume.update(toVolume(candle));
        setLatest({ bars: bars.size, close: candle.close, volume: candle.volume });
      },
    });
    return () => {
      unsubscribe();
      unsubscribeTrades();
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
        data-last-close={latest.close}
        data-last-volume={latest.volume}
        role="img"
        aria-label={`${info.symbol} ${interval} candles${latest.close ? `, last close ${latest.close}` : ''}`}
      />
    </div>
  );
}
