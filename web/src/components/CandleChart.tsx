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
  const [interval, setInterval] = useState<CandleInterval>('1m');
  const [barCount, setBarCount] = useState(0);

  useEffect(() => {
    if (!container.current) return;
    const parts = buildChart(container.current, info);
    let active = true;
    let lastTime = 0;
    const reload = async () => {
      const history = await api.candles(info.symbol, interval);
      if (!active || !history.ok) return;
      const sorted = [...history.value].sort((a, b) => a.timeMs - b.timeMs).slice(-chartBarsMax);
      parts.candles.setData(sorted.map(toBar));
      parts.volume.setData(sorted.map(toVolume));
      lastTime = sorted.at(-1)?.timeMs ?? 0;
      setBarCount(sorted.length);
    };
    const unsubscribe = socket.subscribe(channelNames.candles(info.symbol, interval), {
      onReset: () => void reload(),
      onMessage: (message) => {
        const items = Array.isArray(message.data) ? message.data : [message.data];
        for (const item of items) {
          const candle = readCandle(item);
          if (candle.timeMs < lastTime) continue;
          lastTime = candle.timeMs;
          parts.candles.update(toBar(candle));
          parts.volume.update(toVolume(candle));
        }
        setBarCount((count) => Math.max(count, 1));
      },
    });
    void reload();
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
            onClick={() => setInterval(option)}
          >
            {option}
          </button>
        ))}
      </fieldset>
      <div class="chart" ref={container} data-testid="chart" data-bars={barCount} />
    </div>
  );
}
