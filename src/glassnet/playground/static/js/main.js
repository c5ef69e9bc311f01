// The page: one WebSocket to the server, which trains this tab's network with glassnet.
// Controls send actions and settings; the server answers with the state (after a reset or a
// change of data or network) and one update per epoch (or part of one), drawn at the next
// animation frame. The backprop view asks the server for one example's values and gradients
// (glassnet's autograd) and shows them layer by layer; a click on a weight line or a neuron
// edits that weight or bias; a CSV file posted to /api/upload/SESSION becomes the data.

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
  // the backprop view: the server's "backprop" message for one example, and how far the page
  // has stepped through it: 0 the inputs, 1..L forward through the L layers, L+1..2L backward
  bp: { active: false, message: null, index: 0, step: 0, nextStep: 0, applying: false },
  editing: null, // the weight or bias the editor box is open for
};
const MAX_UPLOAD_BYTES = 1024 * 1024;

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
      if (page.bp.active) {
        // a new network or new data: the example again (or the last one), from the inputs
        page.bp.message = null;
        requestExample(Math.min(page.bp.index, message.train.points.length - 1), 0);
      }
      break;
    case "update":
      if (message.epoch > (page.history.at(-1)?.[0] ?? -1)) {
        page.history.push([message.epoch, message.trainLoss, message.testLoss]);
      }
      onUpdate(message);
      // the weights changed (a step, an edit): the example's numbers again, same stage
      if (page.bp.active && page.bp.message && !page.bp.applying && !message.playing) {
        requestExample(page.bp.index, null);
      }
      break;
    case "backprop":
      onBackprop(message);
      break;
    case "uploaded":
      onUploaded(message);
      break;
    case "settings":
      applySettings(message.settings, message.query);
      scheduleDraw();
      break;
    case "playing":
      setPlaying(message.playing);
      // paused after training in the backprop view: its numbers for the weights as they are now
      if (!message.playing && page.bp.active && page.bp.message) requestExample(page.bp.index, null);
      break;
    case "diverged":
      setPlaying(false);
      showMessage(message.message, true);
      break;
    case "error":
      showMessage(message.message);
      if (message.playing === false) setPlaying(false); // an internal error stopped training
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
  $('[data-key="classes"]').disabled = !multi; // an uploaded file has its own classes
  const regression = ["plane", "multi_gaussian"].includes(settings.dataset);
  $("#problem").textContent = page.state?.problem ?? (regression ? "regression" : "classification");
  // noise is drawn into the built-in datasets; an uploaded file's points are used as they are
  const uploaded = settings.dataset === "csv";
  $('[data-key="noise"]').disabled = uploaded;
  $("#noise-note").hidden = !uploaded;
  const upload = page.state?.upload;
  $("#csv-dataset").hidden = !upload;
  if (upload) $("#csv-dataset").title = `${upload.name}: ${upload.rows} points`;
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
      if (!["spiral", "blobs", "csv"].includes(dataset)) changes.classes = "2";
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
  $("#upload-file").addEventListener("change", upload);
  bindBackprop();
  bindEditor();
}

// -- one's own data ---------------------------------------------------------------------------

async function upload() {
  const input = $("#upload-file");
  const file = input.files[0];
  if (!file || !page.state) return;
  input.value = ""; // the same file again later is a new choice
  if (file.size > MAX_UPLOAD_BYTES) {
    showMessage(`${file.name}: the file is ${(file.size / 2 ** 20).toFixed(1)} MB: the playground takes CSV files up to 1 MB`);
    return;
  }
  const query = new URLSearchParams({ kind: $("#upload-kind").value, name: file.name });
  let answer;
  try {
    const response = await fetch(`/api/upload/${page.state.session}?${query}`, {
      method: "POST",
      headers: { "Content-Type": "text/csv" },
      body: file,
    });
    answer = await response.json();
  } catch (error) {
    showMessage(`${file.name}: the upload failed (${error})`);
    return;
  }
  // success: the new state and then an "uploaded" message arrive over the WebSocket
  if (answer.error) showMessage(answer.error);
}

function onUploaded(answer) {
  const kind = answer.problem === "regression" ? "regression" : `${answer.classes} classes`;
  const notes = answer.notes.length ? `; ${answer.notes.join("; ")}` : "";
  showMessage(`Loaded ${answer.name}: ${answer.rows} points, ${kind} (${answer.train} for training)${notes}.`);
}

// -- editing a weight or a bias ---------------------------------------------------------------

function bindEditor() {
  const editor = $("#weight-editor");
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      const target = page.editing;
      closeEditor();
      if (target) send({ action: "edit", ...target, value: editor.value });
    } else if (event.key === "Escape") {
      closeEditor();
    }
  });
  editor.addEventListener("blur", closeEditor);
}

function openEditor(event, target, value) {
  // target: {layer, neuron, input} for a weight, input null for a bias
  if (value === undefined) return;
  event.stopPropagation();
  hideTooltip();
  page.editing = target;
  const editor = $("#weight-editor");
  editor.value = String(Number(value.toPrecision(4)));
  editor.style.left = `${event.clientX + 8}px`;
  editor.style.top = `${event.clientY - 12}px`;
  editor.hidden = false;
  editor.focus();
  editor.select();
}

function closeEditor() {
  page.editing = null;
  $("#weight-editor").hidden = true;
}

// -- the backprop view ------------------------------------------------------------------------

function bindBackprop() {
  $("#backprop-toggle").addEventListener("click", () => {
    const bp = page.bp;
    bp.active = !bp.active;
    bp.message = null;
    $("#backprop-toggle").classList.toggle("on", bp.active);
    $("#heatmap").classList.toggle("picking", bp.active);
    if (bp.active) {
      if (page.playing) send({ action: "pause" }); // the numbers are for the weights as they are
      requestExample(bp.index, 0);
    }
    scheduleDraw();
  });
  $("#bp-next").addEventListener("click", () => {
    const count = page.state ? page.state.train.points.length : 1;
    requestExample((page.bp.index + (page.bp.message ? 1 : 0)) % count, 0);
  });
  $("#bp-forward").addEventListener("click", () => stepBackprop(+1, "forward"));
  $("#bp-backward").addEventListener("click", () => stepBackprop(+1, "backward"));
  $("#bp-apply").addEventListener("click", () => {
    if (!page.bp.message) return;
    page.bp.applying = true;
    page.bp.nextStep = layerCount(); // show the new forward pass: the loss went down
    send({ action: "backprop_apply", index: page.bp.index });
  });
  $("#heatmap").addEventListener("click", (event) => {
    if (!page.bp.active) return;
    const canvas = event.currentTarget;
    const x1 = (event.offsetX / canvas.clientWidth) * 12 - 6;
    const x2 = 6 - (event.offsetY / canvas.clientHeight) * 12;
    page.bp.nextStep = 0;
    send({ action: "backprop", at: [x1, x2] });
  });
}

function layerCount() {
  return page.state ? page.state.layers.length - 1 : 0;
}

function requestExample(index, step) {
  // step: where to start showing it; null keeps the stage the view is at
  page.bp.index = index;
  page.bp.nextStep = step;
  send({ action: "backprop", index });
}

function onBackprop(message) {
  const bp = page.bp;
  if (!bp.active) return;
  bp.message = message;
  bp.index = message.index;
  bp.applying = false;
  if (bp.nextStep !== null) bp.step = bp.nextStep;
  bp.step = Math.min(bp.step, 2 * layerCount());
  bp.nextStep = null;
  scheduleDraw();
}

function stepBackprop(by, direction) {
  const bp = page.bp;
  const layers = layerCount();
  if (!bp.message) return;
  if (direction === "forward" && bp.step < layers) bp.step += by;
  if (direction === "backward" && bp.step >= layers && bp.step < 2 * layers) bp.step += by;
  if (page.state && page.update) drawBackprop(); // at once: the heatmap has not changed
}

function formatValue(value) {
  if (value === null || value === undefined) return "\u2013";
  const size = Math.abs(value);
  if (size !== 0 && (size < 0.01 || size >= 1000)) return value.toExponential(1);
  return value.toPrecision(3);
}

function addLabel(neuron, column, k, lines) {
  const label = document.createElement("div");
  label.className = "bp-label";
  label.dataset.column = String(column);
  label.dataset.neuron = String(k);
  label.style.top = `${neuron.offsetTop}px`;
  for (const [name, value, kind] of lines) {
    const line = document.createElement("span");
    line.className = `bp-${kind}`;
    line.dataset.value = String(value);
    line.textContent = `${name} ${formatValue(value)}`;
    label.appendChild(line);
  }
  neuron.parentElement.appendChild(label);
}

function bezierPoint([x1, y1], [x2, y2], t) {
  // the point at t of the curve linkPath draws
  const m = (x1 + x2) / 2;
  const [a, b, c, d] = [(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3];
  return [a * x1 + (b + c) * m + d * x2, (a + b) * y1 + (c + d) * y2];
}

function drawBackprop() {
  for (const old of document.querySelectorAll(".bp-label, #links text.bp-grad")) old.remove();
  for (const old of document.querySelectorAll(".bp-current")) old.classList.remove("bp-current");
  for (const path of document.querySelectorAll("#links path.link")) {
    path.classList.remove("faded");
    delete path.dataset.grad;
  }
  const bp = page.bp;
  const message = bp.active ? bp.message : null;
  drawBackpropPanel(message);
  if (!message) return;
  const layers = layerCount();
  const step = bp.step;
  const backward = Math.max(0, step - layers); // layers the error signal has reached
  const current = step <= layers ? step : layers - backward + 1; // the column being worked on
  const reached = (column) => backward > 0 && column >= layers - backward + 1;
  const onFeatures = FEATURES.filter((f) => page.settings[f.key] === "true");
  onFeatures.forEach((f, k) => {
    addLabel(page.columns[0][FEATURES.indexOf(f)], 0, k, [["a", message.inputs[k], "post"]]);
  });
  for (let c = 1; c <= Math.min(step, layers); c++) {
    page.columns[c].forEach((neuron, k) => {
      const lines = [
        ["z", message.pre[c - 1][k], "pre"],
        [c === layers ? "\u0177" : "a", message.post[c - 1][k], "post"],
      ];
      if (reached(c)) lines.push(["\u03b4", message.preGrads[c - 1][k], "delta"]);
      addLabel(neuron, c, k, lines);
    });
  }
  for (const neuron of page.columns[current] || []) neuron.classList.add("bp-current");
  // Weight lines: faded until the forward pass reaches them; coloured by their gradient (blue
  // positive, orange negative, thicker when larger) once the error signal has passed them.
  const largest = Math.max(
    1e-12,
    ...message.weightGrads.flat(2).map((g) => Math.abs(g ?? 0)),
  );
  const svg = $("#links");
  page.links.forEach((rows, layer) => {
    const into = layer + 1;
    const labelled = backward > 0 && into === current && rows.length * rows[0].length <= 16;
    rows.forEach((paths, to) => {
      paths.forEach((path, from) => {
        const g = message.weightGrads[layer]?.[to]?.[from];
        if (g === undefined) return;
        path.dataset.grad = String(g);
        if (reached(into)) {
          const style = linkStyle(g);
          path.setAttribute("stroke", style.stroke);
          path.setAttribute("stroke-width", (0.5 + (5 * Math.abs(g ?? 0)) / largest).toFixed(2));
        } else if (backward > 0 || into > step) {
          path.classList.add("faded"); // not reached yet by the pass under way
        }
        if (labelled) {
          const sources = layer === 0 ? onFeatures.map((f) => page.columns[0][FEATURES.indexOf(f)]) : page.columns[layer];
          const [x, y] = bezierPoint(centre(sources[from], "right"), centre(page.columns[into][to], "left"), 0.35);
          const text = document.createElementNS("http://www.w3.org/2000/svg", "text");
          text.setAttribute("class", "bp-grad");
          text.setAttribute("x", x.toFixed(1));
          text.setAttribute("y", (y + 3).toFixed(1));
          text.setAttribute("text-anchor", "middle");
          text.textContent = formatValue(g);
          svg.appendChild(text);
        }
      });
    });
  });
}

function drawBackpropPanel(message) {
  const bp = page.bp;
  $("#backprop").hidden = !bp.active;
  const layers = layerCount();
  const example = $("#bp-example");
  $("#bp-forward").disabled = !message || bp.step >= layers;
  $("#bp-backward").disabled = !message || bp.step < layers || bp.step >= 2 * layers;
  $("#bp-apply").disabled = !message;
  if (!message) {
    example.textContent = "Click a point on the heatmap, or press \u201cnext example\u201d.";
    delete example.dataset.index;
    $("#bp-loss").textContent = "";
    $("#bp-explain").textContent = "";
    return;
  }
  const regression = page.state.problem === "regression";
  const [x1, x2] = message.point;
  example.dataset.index = String(message.index);
  example.textContent =
    `Example ${message.index + 1} of ${message.count}: (x\u2081, x\u2082) = ` +
    `(${x1.toFixed(2)}, ${x2.toFixed(2)}), ${regression ? "target" : "class"} ` +
    `${regression ? formatValue(message.target) : message.target}`;
  const loss = $("#bp-loss");
  loss.textContent =
    bp.step >= layers ? `Loss of this example (${message.lossName}): ${formatValue(message.loss)}` : "";
  loss.dataset.value = String(message.loss);
  $("#bp-explain").textContent = explainStep(message, bp.step, layers);
}

function explainStep(message, step, layers) {
  const act = { relu: "ReLU", tanh: "tanh", sigmoid: "sigmoid", linear: "the identity", leaky_relu: "LeakyReLU", elu: "ELU", gelu: "GELU", silu: "SiLU" }[page.settings.activation] || page.settings.activation;
  const regression = page.state.problem === "regression";
  const classes = page.state.classes;
  if (step === 0) {
    return "The inputs (a) are the example's features. Press Forward to compute the next layer.";
  }
  if (step < layers) {
    return `Forward, hidden layer ${step}: each neuron adds up its inputs times the weights of its lines, plus its bias (z = \u03a3 w\u00b7a + b), then applies ${act}: a = ${act}(z).`;
  }
  if (step === layers) {
    const prediction = regression
      ? "the prediction \u0177 is z itself, and the loss is (\u0177 \u2212 y)\u00b2"
      : classes > 2
        ? "softmax turns the outputs' z into class probabilities \u0177, and the loss is \u2212log of the true class's"
        : "\u0177 = sigmoid(z) is the probability of class 1, and the loss is \u2212log of the true class's probability";
    return `Forward, output: z = \u03a3 w\u00b7a + b; ${prediction}. Press Backward to send the error back.`;
  }
  const column = 2 * layers - step + 1;
  let text;
  if (column === layers) {
    const formula = regression ? "2(\u0177 \u2212 y)" : "\u0177 \u2212 y";
    text = `Backward, output: the error signal \u03b4 = \u2202L/\u2202z = ${formula}. The gradient of each line into the output is \u03b4 \u00d7 the activation it carries (colour: blue positive, orange negative; hover a line to read it).`;
  } else {
    text = `Backward, hidden layer ${column}: a neuron's \u03b4 is the sum of the next layer's \u03b4's times the weights of its lines, times the slope of ${act} at its z. The gradient of each line into it is its \u03b4 \u00d7 the line's input.`;
  }
  if (step === 2 * layers) {
    text += ` Done: every weight has its gradient. \u201cApply this update\u201d ${applyText(message)}`;
  }
  return text;
}

function applyText(message) {
  // what one step of the optimizer chosen in the settings does with these gradients
  const rate = message.learningRate;
  if (message.optimizer === "momentum") {
    return `takes one step of SGD with momentum on this example alone: each weight moves by \u2212${rate} \u00d7 its velocity, which is 0.9 \u00d7 its last velocity + this gradient.`;
  }
  if (message.optimizer === "adam") {
    return `takes one Adam step on this example alone: each weight moves by about \u2212${rate} \u00d7 its gradient's running average / the running average of its size, so by about ${rate} on the first step.`;
  }
  return `moves each one by \u2212${rate} \u00d7 its gradient (SGD on this example alone).`;
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
          hit.addEventListener("click", (e) =>
            openEditor(e, { layer, neuron: to, input: from }, page.update?.weights[layer]?.[to]?.[from]),
          );
          return path;
        }),
      ),
    );
  }
  for (let c = 1; c < page.columns.length; c++) {
    page.columns[c].forEach((neuron, k) => {
      neuron.addEventListener("mousemove", (e) => showBias(e, c - 1, k));
      neuron.addEventListener("mouseleave", hideTooltip);
      neuron.addEventListener("click", (e) =>
        openEditor(e, { layer: c - 1, neuron: k, input: null }, page.update?.biases[c - 1]?.[k]),
      );
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
  const g = page.bp.active ? page.bp.message?.weightGrads[layer]?.[to]?.[from] : undefined;
  const grad = g === undefined ? "" : `, gradient ${formatValue(g)}`;
  showTooltip(event, `weight ${w.toPrecision(3)}${grad} (click to edit)`);
}

function showBias(event, layer, neuron) {
  const b = page.update?.biases[layer]?.[neuron];
  if (b === undefined) return;
  const g = page.bp.active ? page.bp.message?.biasGrads[layer]?.[neuron] : undefined;
  const grad = g === undefined ? "" : `, gradient ${formatValue(g)}`;
  showTooltip(event, `bias ${b.toPrecision(3)}${grad} (click to edit)`);
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
  const example = page.bp.active ? page.bp.message : null;
  if (example) {
    const [x1, x2] = example.point;
    const scale = heatmap.width / 12;
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc((x1 + 6) * scale, (6 - x2) * scale, 7, 0, 2 * Math.PI);
    ctx.stroke();
  }
  drawNeurons(update);
  drawLinks(update);
  drawBackprop();
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
        path.dataset.weight = String(w);
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
