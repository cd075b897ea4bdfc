// Hand-drawn SVG charts: options' cost against days, and a warehouse's weekly capacity against
// its bookings. Plain SVG keeps them small, styleable from app.css and readable by tests.

import { compact, num, s, ticks } from "./util.js";

/**
 * Cost (y) against days door to door (x) of each option; a bar from the expected arrival to the
 * 90th-percentile one. `points`: [{label, days, p90Days, cost, title}].
 */
export function costDaysChart(points, { currency, selected, onSelect }) {
  const W = 360, H = 250, m = { l: 46, r: 14, t: 12, b: 40 };
  const xMax = Math.max(...points.map((p) => p.p90Days), 1) * 1.06;
  const yMax = Math.max(...points.map((p) => p.cost), 1) * 1.1;
  const xTicks = ticks(0, xMax, 6).filter((t) => t <= xMax);
  const yTicks = ticks(0, yMax, 5).filter((t) => t <= yMax);
  const x = (v) => m.l + (v / xMax) * (W - m.l - m.r);
  const y = (v) => H - m.b - (v / yMax) * (H - m.t - m.b);

  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`, role: "group",
    "aria-label": `Cost in ${currency} against days door to door, one dot per option`,
  });
  const grid = s("g", { class: "grid" });
  const axis = s("g", { class: "axis" });
  for (const t of yTicks) {
    grid.append(s("line", { x1: m.l, x2: W - m.r, y1: y(t), y2: y(t) }));
    axis.append(s("text", { x: m.l - 8, y: y(t) + 4, "text-anchor": "end", text: compact(t) }));
  }
  for (const t of xTicks) {
    grid.append(s("line", { x1: x(t), x2: x(t), y1: m.t, y2: H - m.b }));
    axis.append(s("text", { x: x(t), y: H - m.b + 16, "text-anchor": "middle", text: num(t) }));
  }
  axis.append(s("line", { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
  axis.append(s("line", { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }));
  axis.append(s("text", { class: "axis-title", x: (m.l + W - m.r) / 2, y: H - 8,
    "text-anchor": "middle", text: "Days door to door" }));
  axis.append(s("text", { class: "axis-title", x: 11, y: (m.t + H - m.b) / 2,
    "text-anchor": "middle", transform: `rotate(-90 11 ${(m.t + H - m.b) / 2})`,
    text: `Cost (${currency})` }));
  svg.append(grid, axis);

  const byDays = [...points].sort((a, b) => a.days - b.days);
  svg.append(s("polyline", { class: "frontier",
    points: byDays.map((p) => `${x(p.days)},${y(p.cost)}`).join(" ") }));

  points.forEach((p, i) => {
    const g = s("g", {
      class: `point${i === selected ? " selected" : ""}`, tabindex: 0, role: "button",
      "data-option": i, "aria-pressed": String(i === selected), "aria-label": p.title,
      onclick: () => onSelect(i),
      onkeydown: (event) => {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); onSelect(i); }
      },
    });
    g.append(
      s("title", { text: p.title }),
      s("line", { class: "p90", x1: x(p.days), x2: x(p.p90Days), y1: y(p.cost), y2: y(p.cost) }),
      s("circle", { cx: x(p.days), cy: y(p.cost), r: 9 }),
      s("text", { x: x(p.days), y: y(p.cost) + 4, "text-anchor": "middle", text: p.label }),
    );
    svg.append(g);
  });
  return svg;
}

/**
 * A warehouse's weeks as stacked bars (confirmed, held, then proposed on top) under a step line
 * of capacity. `unit` is "pallets" or "volume_m3".
 */
export function capacityChart(weeks, unit) {
  const W = 560, H = 200, m = { l: 54, r: 10, t: 14, b: 24 };
  const value = (w, part) => Number(w[part ? `${part}_${unit}` : unit]) || 0;
  const top = Math.max(...weeks.map((w) => Math.max(value(w),
    value(w, "confirmed") + value(w, "held") + value(w, "proposed"))), 1) * 1.12;
  const yTicks = ticks(0, top, 4).filter((t) => t <= top);
  const band = (W - m.l - m.r) / weeks.length;
  const y = (v) => H - m.b - (v / top) * (H - m.t - m.b);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": `Weekly capacity and bookings in ${unit === "pallets" ? "pallets" : "cubic metres"}` });
  const grid = s("g", { class: "grid" });
  const axis = s("g", { class: "axis" });
  for (const t of yTicks) {
    grid.append(s("line", { x1: m.l, x2: W - m.r, y1: y(t), y2: y(t) }));
    axis.append(s("text", { x: m.l - 6, y: y(t) + 4, "text-anchor": "end", text: compact(t) }));
  }
  const middle = (m.t + H - m.b) / 2;
  axis.append(s("text", { class: "axis-title", x: 12, y: middle, "text-anchor": "middle",
    transform: `rotate(-90 12 ${middle})`, text: unit === "pallets" ? "Pallets per week" : "m³ per week" }));
  svg.append(grid, axis);
  const every = Math.ceil(weeks.length / 13);
  const capacity = [];
  weeks.forEach((w, i) => {
    const x0 = m.l + i * band, bw = band * 0.62, bx = x0 + (band - bw) / 2;
    let base = 0;
    for (const part of ["confirmed", "held", "proposed"]) {
      const v = value(w, part);
      if (v > 0) {
        svg.append(s("rect", { class: `bar-${part}`, x: bx, width: bw, y: y(base + v),
          height: Math.max(y(base) - y(base + v), 0.5) },
        s("title", { text: `${w.week} ${part}: ${num(v, unit === "pallets" ? 0 : 1)}` })));
      }
      base += v;
    }
    capacity.push(`${x0},${y(value(w))}`, `${x0 + band},${y(value(w))}`);
    if (value(w, "confirmed") + value(w, "held") > value(w)) {
      svg.append(s("text", { class: "over", x: x0 + band / 2, y: m.t + 8, "text-anchor": "middle", text: "!" }));
    }
    if (i % every === 0) {
      axis.append(s("text", { x: x0 + band / 2, y: H - m.b + 15, "text-anchor": "middle",
        text: `W${w.week.slice(-2)}` }));
    }
  });
  svg.append(s("polyline", { class: "capacity", points: capacity.join(" ") },
    s("title", { text: "Capacity" })));
  return svg;
}
