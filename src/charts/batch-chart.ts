import { createCanvas } from '@napi-rs/canvas';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  LinearScale,
  type Plugin,
  Title,
} from 'chart.js';

// Only what these two bar charts use (tree-shaken registration, no DOM plugins).
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Title);

/** What the chart shows: the funnel of people and the messages sent per UTC day. */
export type BatchChartData = {
  title: string;
  funnel: { imported: number; active: number; sent: number; bounced: number; unsubscribed: number };
  sendsPerDay: { day: string; sent: number }[];
};

export const chartSize = { width: 800, height: 400 } as const;

const font = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";
Chart.defaults.font.family = font;
Chart.defaults.color = '#1f2937';

const colors = {
  imported: '#64748b',
  active: '#2563eb',
  sent: '#16a34a',
  bounced: '#dc2626',
  unsubscribed: '#f59e0b',
};

/** Writes each bar's value at its end (the funnel's figures are the point of it). */
const barValues: Plugin<'bar'> = {
  id: 'barValues',
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    const meta = chart.getDatasetMeta(0);
    const values = chart.data.datasets[0]?.data ?? [];
    ctx.save();
    ctx.fillStyle = '#111827';
    ctx.font = `11px ${font}`;
    ctx.textBaseline = 'middle';
    meta.data.forEach((bar, i) => {
      const v = values[i];
      if (typeof v !== 'number') return;
      ctx.fillText(v.toLocaleString('en-US'), bar.x + 4, bar.y);
    });
    ctx.restore();
  },
};

/** Draws one Chart.js chart on its own canvas (Chart.js takes the whole canvas it is given). */
function panel(width: number, height: number, config: ChartConfiguration<'bar'>) {
  const canvas = createCanvas(width, height);
  const chart = new Chart(canvas, config);
  return { canvas, chart };
}

/** Renders the batch chart as a PNG (800×400): funnel on the left, sends per day on the right. */
export async function renderBatchChart(data: BatchChartData): Promise<Buffer> {
  const { width, height } = chartSize;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#111827';
  ctx.font = `bold 16px ${font}`;
  ctx.fillText(data.title.slice(0, 90), 16, 26);

  const f = data.funnel;
  const left = panel(width / 2, height - 40, {
    type: 'bar',
    data: {
      labels: ['Imported', 'Active', 'Sent', 'Bounced', 'Unsubscribed'],
      datasets: [
        {
          data: [f.imported, f.active, f.sent, f.bounced, f.unsubscribed],
          backgroundColor: [colors.imported, colors.active, colors.sent, colors.bounced, colors.unsubscribed],
        },
      ],
    },
    options: {
      indexAxis: 'y',
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      layout: { padding: { right: 70, left: 8 } },
      plugins: { legend: { display: false }, title: { display: true, text: 'Contacts (people)' } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0, maxTicksLimit: 5 } } },
    },
    plugins: [barValues],
  });
  const days = data.sendsPerDay;
  const right = panel(width / 2, height - 40, {
    type: 'bar',
    data: {
      labels: days.length > 0 ? days.map((d) => d.day.slice(5)) : ['—'],
      datasets: [
        {
          data: days.length > 0 ? days.map((d) => d.sent) : [0],
          backgroundColor: colors.sent,
          maxBarThickness: 48,
        },
      ],
    },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      layout: { padding: { right: 16 } },
      plugins: {
        legend: { display: false },
        title: {
          display: true,
          text: days.length > 0 ? 'Messages sent per day (UTC)' : 'No messages sent yet',
        },
      },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
  ctx.drawImage(left.canvas, 0, 40);
  ctx.drawImage(right.canvas, width / 2, 40);
  left.chart.destroy();
  right.chart.destroy();
  return canvas.encode('png');
}
