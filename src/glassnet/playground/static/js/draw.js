// Drawing: colours, heatmaps, the network (neurons and weight lines) and the loss chart.
// Everything here turns numbers the server sent into pixels; nothing here trains.

const NEGATIVE = [245, 147, 34]; // orange: -1, and class 0
const MIDDLE = [232, 234, 235]; // light grey: 0
const POSITIVE = [8, 119, 189]; // blue: +1, and class 1
export const CLASS_COLOURS = [NEGATIVE, POSITIVE, [44, 160, 44], [148, 103, 189], [214, 39, 40]];

export function decode(array) {
  // {shape, dtype, data (base64)} -> a typed array (float32, or int8 scaled back to [-1, 1]).
  const bytes = Uint8Array.from(atob(array.data), (c) => c.charCodeAt(0));
  if (array.dtype === "int8") {
    const ints = new Int8Array(bytes.buffer);
    const values = new Float32Array(ints.length);
    for (let i = 0; i < ints.length; i++) values[i] = ints[i] / 127;
    return values;
  }
  return new Float32Array(bytes.buffer);
}

export function colour(value) {
  // -1 orange, 0 grey, +1 blue; values beyond are clamped.
  const v = Math.max(-1, Math.min(1, value));
  const [from, to, t] = v < 0 ? [MIDDLE, NEGATIVE, -v] : [MIDDLE, POSITIVE, v];
  return [0, 1, 2].map((i) => Math.round(from[i] + (to[i] - from[i]) * t));
}

function mix(a, b, t) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}

export function paintValues(canvas, values, offset, size, discretize = false) {
  // A size x size map of values in [-1, 1] onto a canvas of that many pixels.
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    let v = values[offset + i];
    if (discretize) v = v > 0 ? 1 : -1;
    const [r, g, b] = colour(v);
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

export function paintClasses(canvas, probabilities, classes, size, discretize = false) {
  // Several classes: each cell in the colour of its likeliest class, paler when unsure.
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  const cells = size * size;
  for (let i = 0; i < cells; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) {
      if (probabilities[k * cells + i] > probabilities[best * cells + i]) best = k;
    }
    const p = probabilities[best * cells + i];
    const sure = discretize ? 1 : Math.max(0, (p - 1 / classes) / (1 - 1 / classes));
    const [r, g, b] = mix(MIDDLE, CLASS_COLOURS[best], 0.15 + 0.85 * sure);
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

export function drawPoints(ctx, points, labels, width, { regression, stroke }) {
  // Points of [-6, 6]^2 on a width x width canvas; classes by colour, targets on the scale.
  const scale = width / 12;
  ctx.lineWidth = 1;
  ctx.strokeStyle = stroke;
  for (let i = 0; i < points.length; i++) {
    const [x1, x2] = points[i];
    const rgb = regression ? colour(labels[i]) : CLASS_COLOURS[labels[i]];
    ctx.fillStyle = `rgb(${rgb.join(",")})`;
    ctx.beginPath();
    ctx.arc((x1 + 6) * scale, (6 - x2) * scale, 2.6, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
}

export function drawAxes(ctx, width) {
  ctx.fillStyle = "rgba(0,0,0,0.55)";
  ctx.font = "10px sans-serif";
  for (const tick of [-3, 0, 3]) {
    const at = ((tick + 6) / 12) * width;
    ctx.fillText(String(tick), at - 4, width - 3); // x1 along the bottom
    ctx.fillText(String(-tick), 3, at + 3); // x2 up the left side
  }
}

export function drawLossChart(canvas, history) {
  // Training loss in grey, test loss in black, over all epochs so far.
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const values = history.flatMap(([, a, b]) => [a, b]).filter((v) => v !== null);
  if (history.length < 2 || values.length === 0) return;
  const top = Math.max(...values, 1e-9);
  const step = Math.max(1, Math.floor(history.length / width));
  for (const [column, style] of [[1, "#999"], [2, "#000"]]) {
    ctx.strokeStyle = style;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < history.length; i += step) {
      const v = history[i][column];
      if (v === null) continue;
      const x = (i / (history.length - 1)) * (width - 2) + 1;
      const y = height - 2 - (v / top) * (height - 4);
      if (started) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
      started = true;
    }
    ctx.stroke();
  }
}

export const NEURON_SIZE = 34;
const COLUMN_GAP = 96;
const ROW_GAP = 46;

export function layoutNetwork(container, { featureNames, featureOn, layers }) {
  // Place one column of neurons per layer: all 7 input features (the ones switched on drawn
  // with their heatmap), the hidden layers and the output. Returns the neuron elements.
  for (const old of container.querySelectorAll(".column")) old.remove();
  const columns = [];
  const all = [featureNames, ...layers.slice(1).map((n) => Array.from({ length: n }, () => null))];
  const tallest = Math.max(...all.map((c) => c.length));
  all.forEach((entries, index) => {
    const column = document.createElement("div");
    column.className = "column";
    column.style.left = `${index * COLUMN_GAP}px`;
    const neurons = [];
    entries.forEach((name, row) => {
      const neuron = document.createElement("div");
      neuron.className = "neuron";
      if (index === 0) {
        neuron.classList.add("feature");
        neuron.dataset.feature = name.key;
        if (!featureOn[name.key]) neuron.classList.add("off");
        const label = document.createElement("span");
        label.className = "feature-label";
        label.textContent = name.label;
        neuron.appendChild(label);
      }
      if (index === all.length - 1) neuron.classList.add("output");
      neuron.style.top = `${row * ROW_GAP}px`;
      const canvas = document.createElement("canvas");
      neuron.appendChild(canvas);
      column.appendChild(neuron);
      neurons.push(neuron);
    });
    columns.push(neurons);
    container.appendChild(column);
  });
  container.style.width = `${(all.length - 1) * COLUMN_GAP + NEURON_SIZE + 60}px`;
  container.style.height = `${tallest * ROW_GAP}px`;
  return columns;
}

export function centre(neuron, side) {
  const column = neuron.parentElement;
  const x = column.offsetLeft + (side === "right" ? NEURON_SIZE : 0);
  return [x, neuron.offsetTop + NEURON_SIZE / 2];
}

export function linkPath([x1, y1], [x2, y2]) {
  const middle = (x1 + x2) / 2;
  return `M${x1},${y1} C${middle},${y1} ${middle},${y2} ${x2},${y2}`;
}

export function linkStyle(weight) {
  const rgb = weight >= 0 ? POSITIVE : NEGATIVE;
  const width = 0.5 + Math.min(Math.abs(weight), 5) * 1.1;
  return { stroke: `rgb(${rgb.join(",")})`, width };
}
