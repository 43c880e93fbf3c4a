// LiteDepth in the browser: the full-frame ONNX graph (uint8 frame in, depth in metres out) on a webcam or a photo,
// with ONNX Runtime Web. Written by `litedepth demo`, which puts demo.json (the graph's contract and the package's
// colour ramp), the graph and ONNX Runtime Web's files beside this script.
import * as ort from './ort/ort.min.mjs';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
// Read by people (the status line) and by tests (window.litedepth): what the page is doing and its last result.
const state = {
  ready: false, backend: null, threads: 1, source: null, frames: 0, seen: 0, dropped: 0,
  fps: 0, latency: 0, error: null, last: null,
};
window.litedepth = state;

function say(text, error = false) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
  state.error = error ? text : null;
}

const config = await (await fetch('demo.json')).json();
const [H, W] = config.frame_size;
// the ramp as packed RGBA words, so a pixel is one lookup and one 32-bit store (ImageData is little-endian RGBA)
const RAMP32 = new Uint32Array(config.ramp.map(([r, g, b]) => (255 << 24 | b << 16 | g << 8 | r) >>> 0));
ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
state.threads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
ort.env.wasm.numThreads = state.threads;
$('about').textContent = `${config.model_name}, ${config.precision} full-frame graph (${W}x${H}), ` +
  `ONNX Runtime Web ${config.onnxruntime_web}. ${config.note}`;

const frameCtx = $('frame').getContext('2d', { willReadFrequently: true });
const depthCanvas = $('depth');
const depthCtx = depthCanvas.getContext('2d');
let session = null;
let busy = false;
let stream = null;
const video = Object.assign(document.createElement('video'), { muted: true, playsInline: true });
const stamps = [];

// ---- the model

const backends = ['wasm'].concat(navigator.gpu ? ['webgpu'] : []);
for (const name of backends) $('backend').append(new Option(name === 'wasm' ? 'WASM (CPU)' : 'WebGPU', name));
$('backend').value = backends.includes(params.get('backend')) ? params.get('backend') : 'wasm';

async function load(backend) {
  session = null;
  state.ready = false;
  say(`Loading the model for ${backend === 'wasm' ? 'WASM' : 'WebGPU'}…`);
  try {
    session = await ort.InferenceSession.create(config.model, { executionProviders: [backend] });
  } catch (error) {
    say(backend === 'webgpu' ? 'This browser cannot run the WebGPU backend; choose WASM.'
      : `The model could not be loaded (${error.message}).`, true);
    return;
  }
  state.backend = backend;
  state.ready = true;
  const threads = backend !== 'wasm' ? '' : `, ${state.threads} thread${state.threads > 1 ? 's' : ''}` +
    (self.crossOriginIsolated ? '' : ' (more need a cross-origin-isolated page)');
  say(`Ready on ${backend === 'wasm' ? 'WASM' : 'WebGPU'}${threads}: start the camera or open a photo.`);
}

function cameraScale() {
  // a camera-aware graph predicts depth for its canonical camera; a known field of view rescales it to metres
  const fov = parseFloat($('fov').value);
  if (!config.canonical_focal_length || !(fov > 0 && fov < 180)) return 1;
  return 0.5 / Math.tan((fov * Math.PI) / 360) / config.canonical_focal_length;
}

async function infer(rgb, region) {
  const start = performance.now();
  const outputs = await session.run({ [config.input_name]: new ort.Tensor('uint8', rgb, [1, H, W, 3]) });
  state.latency = performance.now() - start;
  let depth = outputs[config.output_name].data;
  const scale = cameraScale();
  if (scale !== 1) depth = depth.map((value) => value * scale);
  state.last = { rgb, depth, region };
  state.frames += 1;
  const now = performance.now();
  stamps.push(now);
  while (stamps.length && now - stamps[0] > 2000) stamps.shift();
  state.fps = stamps.length > 1 ? ((stamps.length - 1) * 1000) / (stamps.at(-1) - stamps[0]) : 0;
  draw(depth, region);
  $('download').disabled = false;
  $('stats').textContent = `${state.fps.toFixed(1)} frames/s · model ${state.latency.toFixed(1)} ms/frame · ` +
    `${state.frames} processed` + (state.source === 'camera' ? ` · ${state.dropped} camera frames dropped` : '');
}

function pixelsOf(imageData) {
  const rgba = imageData.data;
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgb[i] = rgba[j]; rgb[i + 1] = rgba[j + 1]; rgb[i + 2] = rgba[j + 2];
  }
  return rgb;
}

// ---- pictures: the package's colour map (near bright, far dark, inverse depth between the 2nd and 98th
// percentiles) and its metre scale bar

function percentile(sorted, q) {
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (at - low);
}

function depthRange(depth, region) {
  const step = Math.max(1, Math.round(Math.sqrt((region.w * region.h) / 20000)));  // ~20k samples
  const inverse = new Float32Array(Math.ceil(region.w / step) * Math.ceil(region.h / step));
  let count = 0;
  for (let y = region.y; y < region.y + region.h; y += step) {
    for (let x = region.x; x < region.x + region.w; x += step) {
      const d = depth[y * W + x];
      if (d > 0 && d < Infinity) inverse[count++] = 1 / d;
    }
  }
  if (!count) return [0, 0];
  const sorted = inverse.subarray(0, count).sort();
  return [1 / percentile(sorted, 0.98), 1 / percentile(sorted, 0.02)];
}

function ticks(near, far) {
  for (const step of [0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 50]) {
    const values = [];
    for (let v = Math.ceil(near / step) * step; v <= far + 1e-9; v += step) values.push(Math.round(v * 1e6) / 1e6);
    if (values.length <= 6) return values;
  }
  return [near, far];
}

function draw(depth, region) {
  const [near, far] = depthRange(depth, region);
  const strip = Math.max(18, Math.floor(region.h / 12));
  if (depthCanvas.width !== region.w || depthCanvas.height !== region.h + strip) {
    depthCanvas.width = region.w;
    depthCanvas.height = region.h + strip;
  }
  const bar = Math.floor(strip / 2);
  const image = depthCtx.createImageData(region.w, region.h + bar);  // the map, and the scale bar's ramp below it
  const pixels = new Uint32Array(image.data.buffer);
  const low = far ? 1 / far : 0;
  const gain = near && far ? 255 / Math.max(1 / near - low, 1e-12) : 0;
  const black = 0xff000000;
  for (let y = 0, o = 0; y < region.h; y++) {
    const row = (region.y + y) * W + region.x;
    for (let x = 0; x < region.w; x++, o++) {
      const d = depth[row + x];
      if (!(d > 0 && d < Infinity) || !gain) { pixels[o] = black; continue; }  // invalid: black
      const index = (1 / d - low) * gain;
      pixels[o] = RAMP32[index <= 0 ? 0 : index >= 255 ? 255 : index | 0];
    }
  }
  const ranged = near && far > near;
  for (let x = 0; x < region.w; x++) {  // far (left) to near (right), linear in inverse depth
    const colour = ranged ? RAMP32[Math.min(255, Math.floor((x / Math.max(region.w - 1, 1)) * 255))] : 0xffffffff;
    for (let y = region.h; y < region.h + bar; y++) pixels[y * region.w + x] = colour;
  }
  depthCtx.putImageData(image, 0, 0);
  depthCtx.fillStyle = '#fff';
  depthCtx.fillRect(0, region.h + bar, region.w, strip - bar);
  if (!ranged) return;
  depthCtx.font = `${Math.max(10, bar - 2)}px sans-serif`;
  depthCtx.textBaseline = 'top';
  let boundary = Infinity;  // labels right (near) to left; one that would touch its right neighbour is left out
  const marks = ticks(near, far).map((v) => {
    const x = Math.round(((1 / v - 1 / far) / (1 / near - 1 / far)) * (region.w - 1));
    const label = `${v} m`;
    const width = depthCtx.measureText(label).width;
    return { x, label, width, left: Math.min(Math.max(0, x - width / 2), region.w - width) };
  }).sort((a, b) => b.x - a.x);
  marks.forEach((mark, k) => {
    depthCtx.fillStyle = '#fff';
    depthCtx.fillRect(mark.x, region.h, 1, bar);
    if (k && mark.left + mark.width + 4 > boundary) return;
    boundary = mark.left;
    depthCtx.fillStyle = '#000';
    depthCtx.fillText(mark.label, mark.left, region.h + bar);
  });
}

// ---- sources: the camera (the newest frame only: frames that arrive while the model runs are dropped) and photos

function fitted(width, height) {
  // the graph takes a fixed W x H frame: a picture of another shape is fitted inside it at its own aspect ratio
  const scale = Math.min(W / width, H / height);
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  return { x: Math.floor((W - w) / 2), y: Math.floor((H - h) / 2), w, h };
}

function onCameraFrame() {
  if (!stream) return;
  state.seen += 1;
  if (busy || !session) {
    state.dropped += 1;
  } else {
    busy = true;
    const region = fitted(video.videoWidth || W, video.videoHeight || H);  // a 16:9 camera is not squashed
    if (region.w !== W || region.h !== H) { frameCtx.fillStyle = '#808080'; frameCtx.fillRect(0, 0, W, H); }
    frameCtx.drawImage(video, region.x, region.y, region.w, region.h);
    infer(pixelsOf(frameCtx.getImageData(0, 0, W, H)), region)
      .catch((error) => say(`The model failed on a frame (${error.message}).`, true))
      .finally(() => { busy = false; });
  }
  if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(onCameraFrame);
  else setTimeout(onCameraFrame, 1000 / 30);
}

async function startCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    say('This browser gives this page no camera (pages need https or localhost for one).', true);
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: W }, height: { ideal: H } } });
  } catch (error) {
    const reasons = {
      NotAllowedError: 'Camera permission was denied: allow it for this page, or open a photo instead.',
      NotFoundError: 'No camera was found: open a photo instead.',
      NotReadableError: 'The camera is in use by another program.',
      OverconstrainedError: 'The camera cannot deliver video this page can use.',
    };
    say(reasons[error.name] || `The camera could not start (${error.message}).`, true);
    return;
  }
  video.srcObject = stream;
  await video.play();
  Object.assign(state, { source: 'camera', seen: 0, dropped: 0 });
  stamps.length = 0;
  $('camera').disabled = true;
  $('stop').disabled = false;
  say(`Streaming ${video.videoWidth}x${video.videoHeight} from the camera on ${state.backend}.`);
  if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(onCameraFrame);
  else onCameraFrame();
}

function stopCamera() {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  $('camera').disabled = false;
  $('stop').disabled = true;
}

async function openPhoto(file) {
  if (!file) return;
  stopCamera();
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    say(`${file.name} is not a picture this browser can read.`, true);
    return;
  }
  const region = fitted(bitmap.width, bitmap.height);  // grey around a photo of another shape
  const { w, h } = region;
  frameCtx.fillStyle = '#808080';
  frameCtx.fillRect(0, 0, W, H);
  frameCtx.drawImage(bitmap, region.x, region.y, w, h);
  state.source = 'photo';
  stamps.length = 0;
  if (!session) { say('The model is not loaded yet.', true); return; }
  try {
    await infer(pixelsOf(frameCtx.getImageData(0, 0, W, H)), region);
  } catch (error) {
    say(`The model failed on this photo (${error.message}).`, true);
    return;
  }
  say(`${file.name}: ${bitmap.width}x${bitmap.height}, depth in ${state.latency.toFixed(1)} ms on ${state.backend}.`);
}

// ---- download: the shown region's depth as a 16-bit greyscale PNG in millimetres (what `litedepth predict` writes)

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set([...type].map((c) => c.charCodeAt(0)), 4);
  out.set(data, 8);
  let crc = 0xffffffff;
  for (const byte of out.subarray(4, 8 + data.length)) crc = CRC[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  view.setUint32(8 + data.length, (crc ^ 0xffffffff) >>> 0);
  return out;
}

async function depthPng({ depth, region }) {
  const rows = new Uint8Array(region.h * (1 + region.w * 2));
  const view = new DataView(rows.buffer);
  for (let y = 0, o = 0; y < region.h; y++) {
    rows[o++] = 0;  // filter: none
    for (let x = 0; x < region.w; x++, o += 2) {
      const metres = depth[(region.y + y) * W + region.x + x];
      view.setUint16(o, Number.isFinite(metres) ? Math.min(65535, Math.max(0, Math.round(metres * 1000))) : 0);
    }
  }
  const zlib = new Uint8Array(await new Response(new Blob([rows]).stream()
    .pipeThrough(new CompressionStream('deflate'))).arrayBuffer());
  const header = new Uint8Array(13);
  new DataView(header.buffer).setUint32(0, region.w);
  new DataView(header.buffer).setUint32(4, region.h);
  header.set([16, 0, 0, 0, 0], 8);  // 16-bit, greyscale
  const signature = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
  return new Blob([signature, chunk('IHDR', header), chunk('IDAT', zlib), chunk('IEND', new Uint8Array())],
    { type: 'image/png' });
}

// for tests: the last frame the model saw and its depth, as base64 bytes (RGB uint8; float32 little-endian)
function base64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
state.dump = () => state.last && {
  width: W, height: H, region: state.last.region, frames: state.frames,
  rgb: base64(state.last.rgb),
  depth: base64(new Uint8Array(state.last.depth.buffer, state.last.depth.byteOffset, state.last.depth.byteLength)),
};
state.png = async () => state.last && base64(new Uint8Array(await (await depthPng(state.last)).arrayBuffer()));
// for benchmarks: the last frame through the model and the colour map `runs` times back to back (no camera in the
// way); the median milliseconds of the model alone and of the whole frame (model, camera scale, colour map)
state.benchmark = async (runs = 50) => {
  const { rgb, region } = state.last;
  const model = [];
  const whole = [];
  for (let k = 0; k < runs; k++) {
    const start = performance.now();
    await infer(rgb, region);
    whole.push(performance.now() - start);
    model.push(state.latency);
  }
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return { model_ms: median(model), frame_ms: median(whole), runs, backend: state.backend, threads: state.threads };
};

// ---- wiring

$('camera').onclick = startCamera;
$('stop').onclick = () => { stopCamera(); say('Camera stopped.'); };
$('photo').onchange = async (event) => { await openPhoto(event.target.files[0]); event.target.value = ''; };
$('fov').onchange = () => {  // a new field of view rescales the photo on show (the camera picks it up by itself)
  if (state.source === 'photo' && state.last && session) infer(state.last.rgb, state.last.region);
};
$('backend').onchange = async (event) => { const running = !!stream; stopCamera(); await load(event.target.value);
  if (running && state.ready) startCamera(); };
$('download').onclick = async () => {
  if (!state.last) return;
  const link = Object.assign(document.createElement('a'), { download: 'depth_mm.png' });
  link.href = URL.createObjectURL(await depthPng(state.last));
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
};
const drop = $('drop');
drop.ondragover = (event) => { event.preventDefault(); drop.classList.add('over'); };
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (event) => { event.preventDefault(); drop.classList.remove('over'); openPhoto(event.dataTransfer.files[0]); };

await load($('backend').value);
if (params.get('start') === 'camera' && state.ready) startCamera();
