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
import { api, type Candle, type SymbolInfo } from '../api.js';
import { type CandleInterval, candleIntervals, channelNames, readCandle } from '../channels.js';
import { pricePlaces, useApp } from '../context.js';
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
    timeScale: { timeVisible: true, secondsVisible: true, borderColor: '#263042' },
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
    let active = true;
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
    const loadHistory = async () => {
      const history = await api.candles(info.symbol, interval);
      if (!active || !history.ok || !Array.isArray(history.value)) return;
      // Live candles win over history: they are newer.
      for (const item of history.value) {
        const candle = readCandle(item, units);
        if (candle && !bars.has(candle.timeMs)) bars.set(candle.timeMs, candle);
      }
      redraw();
    };
    const unsubscribe = socket.subscribe(channelNames.candles(info.symbol, interval), {
      onReset: () => void loadHistory(),
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
      active = false;
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
        data-last-close={latest.close}
        data-last-volume={latest.volume}
        role="img"
        aria-label={`${info.symbol} ${interval} candles${latest.close ? `, last close ${latest.close}` : ''}`}
      />
    </div>
  );
}
