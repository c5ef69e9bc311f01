// The page: one WebSocket to the server, which trains this tab's network with glassnet.
// Controls send actions and settings; the server answers with the state (after a reset or a
// change of data or network) and one update per epoch, drawn at the next animation frame.

import {
  CLASS_COLOURS,
  centre,
  decode,
  drawAxes,
  drawLossChart,
  drawPoints,
  layoutNetwork,
  linkPath,
  linkStyle,
  paintClasses,
  paintValues,
} from "./draw.js";

const FEATURES = [
  { key: "x", label: "x\u2081" },
  { key: "y", label: "x\u2082" },
  { key: "xSquared", label: "x\u2081\u00b2" },
  { key: "ySquared", label: "x\u2082\u00b2" },
  { key: "xTimesY", label: "x\u2081x\u2082" },
  { key: "sinX", label: "sin(x\u2081)" },
  { key: "sinY", label: "sin(x\u2082)" },
];
const MAX_LAYERS = 6;
const MAX_NEURONS = 8;
const OUTPUT_SIZE = 100;
const NEURON_GRID = 25;

const $ = (selector) => document.querySelector(selector);
const page = {
  socket: null,
  state: null, // the last "state" message: settings, data, layout
  settings: {}, // URL parameters, as the server last confirmed them
  history: [],
  update: null,
  playing: false,
  columns: [], // neuron elements, column by column
  links: [], // links[layer][to][from]: SVG paths
  drawScheduled: false,
};

function send(message) {
  if (page.socket && page.socket.readyState === WebSocket.OPEN) {
    page.socket.send(JSON.stringify(message));
  }
}

function change(key, value) {
  send({ action: "settings", changes: { [key]: String(value) } });
}

// -- messages from the server -----------------------------------------------------------------

function onMessage(event) {
  const message = JSON.parse(event.data);
  switch (message.type) {
    case "state":
      page.state = message;
      page.history = message.history.slice();
      applySettings(message.settings, message.query);
      layout();
      showMessage(message.diverged);
      onUpdate(message);
      break;
    case "update":
      if (message.epoch > (page.history.at(-1)?.[0] ?? -1)) {
        page.history.push([message.epoch, message.trainLoss, message.testLoss]);
      }
      onUpdate(message);
      break;
    case "settings":
      applySettings(message.settings, message.query);
      scheduleDraw();
      break;
    case "playing":
      setPlaying(message.playing);
      break;
    case "diverged":
      setPlaying(false);
      showMessage(message.message, true);
      break;
    case "error":
      showMessage(message.message);
      applySettings(page.settings, null); // put the controls back as they were
      break;
  }
}

function onUpdate(message) {
  page.update = message;
  setPlaying(message.playing);
  scheduleDraw();
}

function setPlaying(playing) {
  page.playing = playing;
  const button = $("#play");
  button.classList.toggle("playing", playing);
  button.innerHTML = playing ? "&#x275A;&#x275A;" : "&#x25B6;";
}

function showMessage(text, offerReset = false) {
  $("#message").hidden = !text;
  $("#message-text").textContent = text || "";
  $("#message-reset").hidden = !offerReset;
}

// -- settings and controls --------------------------------------------------------------------

function applySettings(settings, query) {
  page.settings = settings;
  if (query !== null) history.replaceState(null, "", `?${query}`);
  for (const control of document.querySelectorAll("[data-key]")) {
    const value = settings[control.dataset.key];
    if (value === undefined) continue;
    if (control.type === "checkbox") control.checked = value === "true";
    else if (control.tagName === "SELECT") selectValue(control, value);
    else control.value = value;
    const shown = document.getElementById(`${control.dataset.key}-value`);
    if (shown) shown.textContent = value;
  }
  for (const button of document.querySelectorAll("[data-dataset]")) {
    button.classList.toggle("selected", button.dataset.dataset === settings.dataset);
  }
  const multi = ["spiral", "blobs"].includes(settings.dataset);
  $('[data-key="classes"]').disabled = !multi;
  const regression = ["plane", "multi_gaussian"].includes(settings.dataset);
  $("#problem").textContent = regression ? "regression" : "classification";
  const hidden = settings.networkShape ? settings.networkShape.split(",").length : 0;
  $("#layer-count").textContent = `${hidden} hidden layer${hidden === 1 ? "" : "s"}`;
}

function selectValue(select, value) {
  // The URL may hold a value the menu does not list (e.g. learningRate=0.05): add it.
  const number = Number(value);
  let match = [...select.options].find(
    (o) => o.value === value || (!Number.isNaN(number) && Number(o.value) === number),
  );
  if (!match) {
    match = new Option(value, value);
    select.add(match);
  }
  select.value = match.value;
}

function hiddenShape() {
  const shape = page.settings.networkShape;
  return shape ? shape.split(",").map(Number) : [];
}

function setShape(shape) {
  change("networkShape", shape.join(","));
}

function bindControls() {
  for (const control of document.querySelectorAll("[data-key]")) {
    const key = control.dataset.key;
    if (control.type === "range") {
      control.addEventListener("input", () => {
        document.getElementById(`${key}-value`).textContent = control.value;
      });
    }
    control.addEventListener("change", () => {
      change(key, control.type === "checkbox" ? control.checked : control.value);
    });
  }
  for (const button of document.querySelectorAll("[data-dataset]")) {
    button.addEventListener("click", () => {
      const dataset = button.dataset.dataset;
      const changes = { dataset };
      if (!["spiral", "blobs"].includes(dataset)) changes.classes = "2";
      send({ action: "settings", changes });
    });
  }
  $("#play").addEventListener("click", () => send({ action: page.playing ? "pause" : "play" }));
  $("#step").addEventListener("click", () => send({ action: "step" }));
  $("#reset").addEventListener("click", () => send({ action: "reset" }));
  $("#regenerate").addEventListener("click", () => send({ action: "regenerate" }));
  $("#message-reset").addEventListener("click", () => send({ action: "reset" }));
  $("#message-close").addEventListener("click", () => showMessage(null));
  $("#add-layer").addEventListener("click", () => {
    const shape = hiddenShape();
    if (shape.length < MAX_LAYERS) setShape([...shape, 2]);
  });
  $("#remove-layer").addEventListener("click", () => {
    const shape = hiddenShape();
    if (shape.length > 0) setShape(shape.slice(0, -1));
  });
  $("#export").addEventListener("click", () => {
    if (page.state) window.location.href = `/api/export/${page.state.session}`;
  });
}

// -- the network ------------------------------------------------------------------------------

function layout() {
  const state = page.state;
  const network = $("#network");
  const featureOn = Object.fromEntries(FEATURES.map((f) => [f.key, state.settings[f.key] === "true"]));
  page.columns = layoutNetwork(network, {
    featureNames: FEATURES,
    featureOn,
    layers: state.layers,
  });
  const onRows = FEATURES.map((f, row) => (featureOn[f.key] ? row : -1)).filter((r) => r >= 0);
  // Neuron heatmap canvases: one pixel per grid cell, stretched by CSS.
  for (const column of page.columns) {
    for (const neuron of column) {
      const canvas = neuron.querySelector("canvas");
      canvas.width = NEURON_GRID;
      canvas.height = NEURON_GRID;
    }
  }
  for (const neuron of page.columns[0]) {
    neuron.addEventListener("click", () => {
      const key = neuron.dataset.feature;
      change(key, neuron.classList.contains("off"));
    });
  }
  addNeuronButtons(network);
  drawLegend(state);
  // Weight lines: from the features switched on (column 0) and every later column.
  const svg = $("#links");
  svg.innerHTML = "";
  svg.setAttribute("width", network.style.width);
  svg.setAttribute("height", network.style.height);
  page.links = [];
  for (let layer = 0; layer < state.layers.length - 1; layer++) {
    const sources = layer === 0 ? onRows.map((r) => page.columns[0][r]) : page.columns[layer];
    const targets = page.columns[layer + 1];
    page.links.push(
      targets.map((target, to) =>
        sources.map((source, from) => {
          // the line as drawn, and a wider invisible one above it that is easy to point at
          const d = linkPath(centre(source, "right"), centre(target, "left"));
          const [path, hit] = ["link", "hit"].map((kind) => {
            const element = document.createElementNS("http://www.w3.org/2000/svg", "path");
            element.setAttribute("d", d);
            element.setAttribute("class", kind);
            svg.appendChild(element);
            return element;
          });
          hit.addEventListener("mousemove", (e) => showWeight(e, layer, to, from, path));
          hit.addEventListener("mouseleave", () => hideTooltip(path));
          return path;
        }),
      ),
    );
  }
  for (let c = 1; c < page.columns.length; c++) {
    page.columns[c].forEach((neuron, k) => {
      neuron.addEventListener("mousemove", (e) => showBias(e, c - 1, k));
      neuron.addEventListener("mouseleave", hideTooltip);
    });
  }
}

function addNeuronButtons(network) {
  const shape = hiddenShape();
  shape.forEach((width, layer) => {
    const column = page.columns[layer + 1][0].parentElement;
    const controls = document.createElement("div");
    controls.className = "neuron-controls";
    const plus = document.createElement("button");
    plus.textContent = "+";
    plus.title = "Add a neuron";
    plus.disabled = width >= MAX_NEURONS;
    plus.addEventListener("click", () => setShape(shape.map((w, i) => (i === layer ? w + 1 : w))));
    const minus = document.createElement("button");
    minus.textContent = "\u2212";
    minus.title = "Remove a neuron";
    minus.disabled = width <= 1;
    minus.addEventListener("click", () => setShape(shape.map((w, i) => (i === layer ? w - 1 : w))));
    const label = document.createElement("span");
    label.textContent = `${width} neuron${width === 1 ? "" : "s"}`;
    controls.append(plus, minus, label);
    column.prepend(controls);
  });
  network.dataset.layers = String(shape.length);
}

function showWeight(event, layer, to, from, path) {
  const w = page.update?.weights[layer]?.[to]?.[from];
  if (w === undefined) return;
  path.classList.add("hover");
  showTooltip(event, `weight ${w.toPrecision(3)}`);
}

function showBias(event, layer, neuron) {
  const b = page.update?.biases[layer]?.[neuron];
  if (b === undefined) return;
  showTooltip(event, `bias ${b.toPrecision(3)}`);
}

function showTooltip(event, text) {
  const tooltip = $("#tooltip");
  tooltip.textContent = text;
  tooltip.hidden = false;
  tooltip.style.left = `${event.clientX + 12}px`;
  tooltip.style.top = `${event.clientY + 12}px`;
}

function hideTooltip(path) {
  $("#tooltip").hidden = true;
  if (path instanceof Element) path.classList.remove("hover");
}

// -- drawing ----------------------------------------------------------------------------------

function scheduleDraw() {
  if (page.drawScheduled) return;
  page.drawScheduled = true;
  requestAnimationFrame(() => {
    page.drawScheduled = false;
    draw();
  });
}

const offscreen = document.createElement("canvas");
offscreen.width = OUTPUT_SIZE;
offscreen.height = OUTPUT_SIZE;

function draw() {
  const { state, update, settings } = page;
  if (!state || !update) return;
  $("#epoch").textContent = String(update.epoch).padStart(6, "0").replace(/(\d{3})$/, ",$1");
  $("#train-loss").textContent = formatLoss(update.trainLoss);
  $("#test-loss").textContent = formatLoss(update.testLoss);
  const discretize = settings.discretize === "true";
  const classes = state.classes;
  const output = decode(update.output);
  if (classes > 2) paintClasses(offscreen, output, classes, OUTPUT_SIZE, discretize);
  else paintValues(offscreen, output, 0, OUTPUT_SIZE, discretize);
  const heatmap = $("#heatmap");
  const ctx = heatmap.getContext("2d");
  ctx.imageSmoothingEnabled = !discretize;
  ctx.drawImage(offscreen, 0, 0, heatmap.width, heatmap.height);
  const regression = state.problem === "regression";
  drawPoints(ctx, state.train.points, state.train.labels, heatmap.width, {
    regression,
    stroke: "#fff",
  });
  if (settings.showTestData === "true") {
    drawPoints(ctx, state.test.points, state.test.labels, heatmap.width, {
      regression,
      stroke: "#000",
    });
  }
  drawAxes(ctx, heatmap.width);
  drawNeurons(update);
  drawLinks(update);
  drawLossChart($("#loss-chart"), page.history);
  heatmap.dataset.epoch = String(update.epoch);
}

function drawNeurons(update) {
  const cells = NEURON_GRID * NEURON_GRID;
  const onFeatures = FEATURES.filter((f) => page.settings[f.key] === "true");
  update.neurons.forEach((encoded, c) => {
    const values = decode(encoded);
    const neurons =
      c === 0
        ? onFeatures.map((f) => page.columns[0][FEATURES.indexOf(f)])
        : page.columns[c] || [];
    neurons.forEach((neuron, k) => {
      paintValues(neuron.querySelector("canvas"), values, k * cells, NEURON_GRID);
    });
  });
}

function drawLinks(update) {
  update.weights.forEach((matrix, layer) => {
    matrix.forEach((row, to) => {
      row.forEach((w, from) => {
        const path = page.links[layer]?.[to]?.[from];
        if (!path) return;
        const style = linkStyle(w);
        path.setAttribute("stroke", style.stroke);
        path.setAttribute("stroke-width", style.width.toFixed(2));
      });
    });
  });
}

function formatLoss(value) {
  return value === null || value === undefined ? "\u2013" : value.toFixed(3);
}

function drawLegend(state) {
  // Several classes: a swatch per class; otherwise the colour scale from -1 to 1.
  const legend = $("#legend");
  legend.innerHTML = "";
  if (state.classes > 2) {
    for (let k = 0; k < state.classes; k++) {
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = `rgb(${CLASS_COLOURS[k].join(",")})`;
      swatch.textContent = String(k);
      legend.appendChild(swatch);
    }
    return;
  }
  const low = state.problem === "regression" ? "-1" : "class 0";
  const high = state.problem === "regression" ? "1" : "class 1";
  legend.innerHTML = `<span>${low}</span><span class="scale"></span><span>${high}</span>`;
}

// -- start ------------------------------------------------------------------------------------

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws${location.search}`);
  page.socket = socket;
  socket.addEventListener("open", () => ($("#connection").textContent = "connected"));
  socket.addEventListener("message", onMessage);
  socket.addEventListener("close", () => {
    $("#connection").textContent = "disconnected: reload the page to start again";
    setPlaying(false);
  });
}

bindControls();
connect();
