// The page's one script: the message wall and the image classifier, over the same HTTP API that
// serves this page (relative URLs, so it works under any stage path). No framework. Every text
// that comes from the API (messages, labels, error messages) goes into the DOM through
// textContent only; the Content-Security-Policy's Trusted Types make any HTML sink throw anyway.

/** A per-user wall's id, as the message-wall function checks it. */
const WALL_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** The message wall's default MESSAGE_WALL_MAX_MESSAGE_BYTES (the API has the last word). */
const MAX_MESSAGE_BYTES = 65_536;
/** How many of the latest messages are shown (`?tail=`). */
const TAIL = 100;
/** Polling interval while the tab is visible, and the longest wait after repeated failures. */
const REFRESH_MS = 2_000;
const MAX_BACKOFF_MS = 30_000;
const TOP = 5;

const encoder = new TextEncoder();
const numbers = new Intl.NumberFormat('en');

function byId<T extends HTMLElement>(id: string, type: { new (): T; prototype: T }): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`The page is missing #${id}.`);
  return node;
}

const ui = {
  wallForm: byId('wall-form', HTMLFormElement),
  wallId: byId('wall-id', HTMLInputElement),
  wallNew: byId('wall-new', HTMLButtonElement),
  messagesTitle: byId('messages-title', HTMLHeadingElement),
  wallMeta: byId('wall-meta', HTMLParagraphElement),
  wallError: byId('wall-error', HTMLParagraphElement),
  wallStatus: byId('wall-status', HTMLParagraphElement),
  messages: byId('messages', HTMLOListElement),
  messagesEmpty: byId('messages-empty', HTMLParagraphElement),
  postForm: byId('post-form', HTMLFormElement),
  message: byId('message', HTMLInputElement),
  messageBytes: byId('message-bytes', HTMLSpanElement),
  postButton: byId('post-button', HTMLButtonElement),
  deleteButton: byId('delete-button', HTMLButtonElement),
  deleteDialog: byId('delete-dialog', HTMLDialogElement),
  deleteText: byId('delete-text', HTMLParagraphElement),
  fileInput: byId('image-file', HTMLInputElement),
  dropZone: byId('drop-zone', HTMLDivElement),
  urlForm: byId('url-form', HTMLFormElement),
  imageUrl: byId('image-url', HTMLInputElement),
  classifyError: byId('classify-error', HTMLParagraphElement),
  classifyStatus: byId('classify-status', HTMLParagraphElement),
  preview: byId('preview', HTMLElement),
  previewImage: byId('preview-image', HTMLImageElement),
  previewCaption: byId('preview-caption', HTMLElement),
  predictionsBox: byId('predictions-box', HTMLDivElement),
  predictions: byId('predictions', HTMLOListElement),
  modelInfo: byId('model-info', HTMLParagraphElement),
};

// ---------------------------------------------------------------------------------------------
// API access

/** A URL of the API, relative to this page. */
function apiUrl(path: string, query?: Record<string, string>): string {
  const url = new URL(path, document.baseURI);
  for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
  return url.href;
}

/**
 * An error answer as one line: the status, the API's code when it has one, and the API's own
 * message (the message wall answers text, ml-inference `{"error":{"code","message"}}`, API Gateway
 * itself `{"message"}`).
 */
async function describeFailure(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  let message = text.trim();
  let code = '';
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      const value: unknown = JSON.parse(text);
      const error = field(value, 'error');
      if (typeof field(error, 'message') === 'string') {
        message = String(field(error, 'message'));
        code = typeof field(error, 'code') === 'string' ? ` ${String(field(error, 'code'))}` : '';
      } else if (typeof field(value, 'message') === 'string') {
        message = String(field(value, 'message'));
      }
    } catch {
      // Not JSON after all: show the text as it came.
    }
  }
  const status = `${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
  return `${status}${code}: ${message === '' ? 'the API gave no details.' : message}`;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function networkFailure(what: string, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return `Could not reach ${what} (${reason}). Check the connection; the page retries on its own.`;
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

function show(node: HTMLElement, text: string): void {
  // Assigning the same text again would make some screen readers repeat it.
  if (node.textContent !== text) node.textContent = text;
}

// ---------------------------------------------------------------------------------------------
// The wall

/** `null` is the shared wall (`/message-wall`). */
let wall: string | null = null;
/** The messages on screen, in the API's order (oldest first). */
let rendered: readonly string[] = [];
/** Every wall request gets a number; an answer older than the one on screen is dropped. */
let requestCounter = 0;
let renderedRequest = 0;
let pollTimer: ReturnType<typeof setTimeout> | undefined;
let pollAbort: AbortController | undefined;
let failures = 0;
/**
 * POSTs and DELETEs in flight. No poll runs meanwhile: a GET answered between the write's start
 * and its commit would show the wall without it for one refresh.
 */
let mutations = 0;

function wallPath(id: string | null): string {
  return id === null ? 'message-wall' : `message-wall/${encodeURIComponent(id)}`;
}

function wallName(id: string | null): string {
  return id === null ? 'the shared wall' : `wall “${id}”`;
}

/**
 * The messages of a wall answer: every message followed by "\n", or exactly "No message yet."
 * (no newline) for an empty wall — so a message that reads "No message yet." is still a message.
 */
function parseWall(body: string): string[] {
  if (!body.endsWith('\n')) return [];
  return body.slice(0, -1).split('\n');
}

/**
 * Brings the list to `next` touching only what changed: the common part stays in the DOM (no
 * flicker, no lost selection or scroll position), older messages that left the `?tail=` window are
 * removed from the top, new ones appended. Anything else (a DELETE in between) rebuilds the list.
 */
function renderMessages(next: readonly string[], requestId: number, announce: boolean): void {
  if (requestId < renderedRequest) return;
  renderedRequest = requestId;
  const old = rendered;
  let dropped = old.length;
  for (let k = 0; k < old.length; k += 1) {
    const overlap = old.length - k;
    if (overlap > next.length) continue;
    let same = true;
    for (let i = 0; i < overlap; i += 1) {
      if (old[k + i] !== next[i]) {
        same = false;
        break;
      }
    }
    if (same) {
      dropped = k;
      break;
    }
  }
  const kept = old.length - dropped;
  const list = ui.messages;
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
  for (let i = 0; i < dropped; i += 1) list.firstElementChild?.remove();
  const added = next.slice(kept);
  const fragment = document.createDocumentFragment();
  for (const text of added) fragment.append(messageItem(text));
  list.append(fragment);
  rendered = [...next];
  ui.messagesEmpty.hidden = next.length > 0;
  list.hidden = next.length === 0;
  if (atBottom || dropped === old.length) list.scrollTop = list.scrollHeight;
  const count =
    next.length >= TAIL
      ? `The latest ${TAIL} messages. `
      : next.length === 0
        ? ''
        : `${next.length} ${next.length === 1 ? 'message' : 'messages'}. `;
  ui.wallMeta.textContent = `${count}Updated ${new Date().toLocaleTimeString()}.`;
  if (announce && added.length > 0) {
    show(ui.wallStatus, `${added.length} new ${added.length === 1 ? 'message' : 'messages'}.`);
  }
}

/** One message: text only, its own bidi island (a right-to-left override stays inside it). */
function messageItem(text: string): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'message';
  item.dir = 'auto';
  item.textContent = text;
  return item;
}

function schedulePoll(): void {
  clearTimeout(pollTimer);
  pollTimer = undefined;
  if (document.hidden || mutations > 0) return;
  const delay = failures === 0 ? REFRESH_MS : Math.min(MAX_BACKOFF_MS, REFRESH_MS * 2 ** failures);
  pollTimer = setTimeout(() => void poll(), delay);
}

/** Reads the wall's latest messages; runs every REFRESH_MS while the tab is visible. */
async function poll(): Promise<void> {
  clearTimeout(pollTimer);
  pollAbort?.abort();
  const controller = new AbortController();
  pollAbort = controller;
  const requestId = (requestCounter += 1);
  const polled = wall;
  try {
    const response = await fetch(apiUrl(wallPath(polled), { tail: String(TAIL) }), { cache: 'no-store', signal: controller.signal });
    if (polled !== wall) return;
    if (response.ok) {
      const body = await response.text();
      // Before rendering, so that a "new messages" announcement is not overwritten.
      if (failures > 0) show(ui.wallStatus, 'Connected again.');
      failures = 0;
      renderMessages(parseWall(body), requestId, true);
    } else {
      failures += 1;
      show(ui.wallStatus, `Refreshing failed: ${await describeFailure(response)}`);
    }
  } catch (error) {
    if (isAbort(error)) return;
    failures += 1;
    show(ui.wallStatus, networkFailure('the message wall', error));
  } finally {
    if (pollAbort === controller) {
      pollAbort = undefined;
      schedulePoll();
    }
  }
}

/**
 * Opens a wall: its first read decides (an invalid id gets the API's answer, and the old wall
 * stays). Resolves to whether the wall was opened.
 */
async function openWall(id: string | null): Promise<boolean> {
  show(ui.wallError, '');
  if (id !== null && /^\.+$/.test(id)) {
    // "." and ".." cannot be sent at all: URLs resolve them as path steps.
    show(ui.wallError, `Wall id “${id}” is invalid: use 1 to 64 letters, digits, “-” or “_”.`);
    ui.wallId.setAttribute('aria-invalid', 'true');
    return false;
  }
  clearTimeout(pollTimer);
  pollAbort?.abort();
  const requestId = (requestCounter += 1);
  try {
    const response = await fetch(apiUrl(wallPath(id), { tail: String(TAIL) }), { cache: 'no-store' });
    if (!response.ok) {
      show(ui.wallError, `Could not open ${wallName(id)}: ${await describeFailure(response)}`);
      ui.wallId.setAttribute('aria-invalid', 'true');
      return false;
    }
    const body = await response.text();
    wall = id;
    rendered = [];
    renderedRequest = 0;
    ui.messages.replaceChildren();
    ui.wallId.removeAttribute('aria-invalid');
    ui.messagesTitle.textContent = id === null ? 'Shared wall' : `Wall “${id}”`;
    show(ui.wallStatus, '');
    renderMessages(parseWall(body), requestId, false);
    const url = new URL(location.href);
    if (id === null) url.searchParams.delete('wall');
    else url.searchParams.set('wall', id);
    history.replaceState(null, '', url.href);
    document.title = `${id === null ? 'Shared wall' : `Wall ${id}`} · lambda-efs`;
    return true;
  } catch (error) {
    show(ui.wallError, networkFailure('the message wall', error));
    return false;
  } finally {
    schedulePoll();
  }
}

function updateByteCounter(): void {
  const bytes = encoder.encode(ui.message.value).length;
  const over = bytes > MAX_MESSAGE_BYTES;
  ui.messageBytes.textContent = `${numbers.format(bytes)} / ${numbers.format(MAX_MESSAGE_BYTES)} bytes${over ? ` — ${numbers.format(bytes - MAX_MESSAGE_BYTES)} over the limit` : ''}`;
  ui.messageBytes.classList.toggle('over', over);
}

async function postMessage(): Promise<void> {
  const text = ui.message.value;
  const target = wall;
  show(ui.wallError, '');
  ui.postButton.disabled = true;
  // A poll in flight may have read the wall before this message: its answer must not win.
  mutations += 1;
  clearTimeout(pollTimer);
  pollAbort?.abort();
  const requestId = (requestCounter += 1);
  try {
    const response = await fetch(apiUrl(wallPath(target), { tail: String(TAIL) }), {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: text,
    });
    if (!response.ok) {
      show(ui.wallError, `Not posted: ${await describeFailure(response)}`);
      return;
    }
    const body = await response.text();
    if (target === wall) renderMessages(parseWall(body), requestId, false);
    if (ui.message.value === text) ui.message.value = '';
    updateByteCounter();
    show(ui.wallStatus, 'Posted.');
    ui.messages.scrollTop = ui.messages.scrollHeight;
  } catch (error) {
    show(ui.wallError, `Not posted: ${networkFailure('the message wall', error)}`);
  } finally {
    mutations -= 1;
    ui.postButton.disabled = false;
    ui.message.focus();
    schedulePoll();
  }
}

async function deleteAll(): Promise<void> {
  const target = wall;
  show(ui.wallError, '');
  mutations += 1;
  clearTimeout(pollTimer);
  pollAbort?.abort();
  const requestId = (requestCounter += 1);
  try {
    const response = await fetch(apiUrl(wallPath(target)), { method: 'DELETE' });
    if (!response.ok) {
      show(ui.wallError, `Not deleted: ${await describeFailure(response)}`);
      return;
    }
    const body = (await response.text()).trim();
    if (target === wall) renderMessages([], requestId, false);
    show(ui.wallStatus, body === '' ? 'Messages deleted.' : body);
  } catch (error) {
    show(ui.wallError, `Not deleted: ${networkFailure('the message wall', error)}`);
  } finally {
    mutations -= 1;
    schedulePoll();
  }
}

function randomWallId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  // base64url of 9 bytes: 12 characters of A-Z a-z 0-9 - _.
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_');
}

ui.wallForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const raw = ui.wallId.value;
  void openWall(raw === '' ? null : raw);
});
ui.wallId.addEventListener('input', () => {
  const value = ui.wallId.value;
  if (value === '' || WALL_ID.test(value)) ui.wallId.removeAttribute('aria-invalid');
  else ui.wallId.setAttribute('aria-invalid', 'true');
});
ui.wallNew.addEventListener('click', () => {
  ui.wallId.value = randomWallId();
  void openWall(ui.wallId.value);
});
ui.postForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!ui.postButton.disabled) void postMessage();
});
ui.message.addEventListener('input', updateByteCounter);
ui.deleteButton.addEventListener('click', () => {
  ui.deleteText.textContent = `Every message on ${wallName(wall)} will be removed, for everyone. This cannot be undone.`;
  ui.deleteDialog.returnValue = '';
  ui.deleteDialog.showModal();
});
ui.deleteDialog.addEventListener('close', () => {
  if (ui.deleteDialog.returnValue === 'delete') void deleteAll();
  ui.deleteButton.focus();
});
document.addEventListener('visibilitychange', () => {
  if (document.hidden) {
    clearTimeout(pollTimer);
    pollTimer = undefined;
    pollAbort?.abort();
  } else if (mutations === 0) {
    void poll();
  }
});

// ---------------------------------------------------------------------------------------------
// The classifier

interface Prediction {
  readonly label: string;
  readonly probability: number;
}

let classifyAbort: AbortController | undefined;
let previewUrl: string | undefined;

function setPreview(file: File | null, caption: string): void {
  if (previewUrl !== undefined) URL.revokeObjectURL(previewUrl);
  previewUrl = undefined;
  if (file === null) {
    ui.previewImage.removeAttribute('src');
    ui.previewImage.hidden = true;
  } else {
    previewUrl = URL.createObjectURL(file);
    ui.previewImage.src = previewUrl;
    ui.previewImage.hidden = false;
  }
  ui.previewCaption.textContent = caption;
  ui.preview.hidden = false;
}

function parsePredictions(value: unknown): { predictions: Prediction[]; model: string } | undefined {
  const list = field(value, 'predictions');
  if (!Array.isArray(list)) return undefined;
  const predictions: Prediction[] = [];
  for (const item of list) {
    const label = field(item, 'label');
    const probability = field(item, 'probability');
    if (typeof label !== 'string' || typeof probability !== 'number' || !Number.isFinite(probability)) return undefined;
    predictions.push({ label, probability: Math.min(1, Math.max(0, probability)) });
  }
  const model = field(value, 'model');
  const name = field(model, 'name');
  const version = field(model, 'version');
  return { predictions, model: typeof name === 'string' && typeof version === 'string' ? `${name} ${version}` : 'unknown' };
}

function percent(probability: number): string {
  return `${(probability * 100).toFixed(1)} %`;
}

function renderPredictions(predictions: readonly Prediction[], model: string, ms: number): void {
  const items = predictions.map((prediction) => {
    const item = document.createElement('li');
    item.className = 'prediction';
    const label = document.createElement('span');
    label.className = 'label';
    label.dir = 'auto';
    label.textContent = prediction.label;
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.setAttribute('aria-hidden', 'true');
    const fill = document.createElement('span');
    fill.className = 'fill';
    // CSSOM, not a style attribute: the Content-Security-Policy allows no inline style.
    fill.style.width = `${(prediction.probability * 100).toFixed(2)}%`;
    bar.append(fill);
    const value = document.createElement('span');
    value.className = 'value';
    value.textContent = percent(prediction.probability);
    item.append(label, bar, value);
    return item;
  });
  ui.predictions.replaceChildren(...items);
  ui.modelInfo.textContent = `Model ${model}. Answered in ${numbers.format(Math.round(ms))} ms (request time seen by this page).`;
  ui.predictionsBox.hidden = false;
  const top = predictions[0];
  show(
    ui.classifyStatus,
    top === undefined
      ? 'The model returned no prediction.'
      : `Top prediction: ${top.label} (${percent(top.probability)}), model ${model}, ${Math.round(ms)} ms.`,
  );
}

async function classify(input: { readonly file: File } | { readonly url: string }): Promise<void> {
  classifyAbort?.abort();
  const controller = new AbortController();
  classifyAbort = controller;
  show(ui.classifyError, '');
  show(ui.classifyStatus, 'Classifying…');
  ui.predictionsBox.hidden = true;
  ui.predictions.replaceChildren();
  if ('file' in input) {
    setPreview(input.file, `${input.file.name === '' ? 'Pasted image' : input.file.name}, ${numbers.format(input.file.size)} bytes`);
  } else {
    setPreview(null, `No preview for ${input.url}: this page loads nothing from other sites.`);
  }
  const started = performance.now();
  try {
    const response =
      'file' in input
        ? await fetch(apiUrl('ml-inference', { top: String(TOP) }), {
            method: 'POST',
            headers: { 'content-type': input.file.type === '' ? 'application/octet-stream' : input.file.type },
            body: input.file,
            signal: controller.signal,
          })
        : await fetch(apiUrl('ml-inference', { url: input.url, top: String(TOP) }), { signal: controller.signal });
    if (!response.ok) {
      const failure = await describeFailure(response);
      if (classifyAbort !== controller) return;
      show(ui.classifyStatus, '');
      show(ui.classifyError, `Not classified: ${failure}`);
      return;
    }
    const value: unknown = await response.json();
    const ms = performance.now() - started;
    if (classifyAbort !== controller) return;
    const parsed = parsePredictions(value);
    if (parsed === undefined) {
      show(ui.classifyStatus, '');
      show(ui.classifyError, 'The classifier answered, but not with predictions. Retry; if it persists, check the ml-inference function.');
      return;
    }
    renderPredictions(parsed.predictions, parsed.model, ms);
  } catch (error) {
    if (isAbort(error)) return;
    show(ui.classifyStatus, '');
    show(ui.classifyError, `Not classified: ${networkFailure('the classifier', error)}`);
  }
}

function imageFrom(items: DataTransferItemList | undefined): File | undefined {
  for (const item of items ?? []) {
    if (item.kind === 'file') {
      const file = item.getAsFile();
      if (file !== null) return file;
    }
  }
  return undefined;
}

ui.fileInput.addEventListener('change', () => {
  const file = ui.fileInput.files?.[0];
  if (file !== undefined) void classify({ file });
});
ui.urlForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const url = ui.imageUrl.value.trim();
  if (url === '') {
    show(ui.classifyError, 'Enter the address of an image first, for example https://example.org/bird.jpg.');
    ui.imageUrl.focus();
    return;
  }
  void classify({ url });
});
// A file dropped anywhere else would replace the page with the file: drops go to the classifier.
for (const type of ['dragover', 'drop'] as const) window.addEventListener(type, (event) => event.preventDefault());
ui.dropZone.addEventListener('dragover', (event) => {
  event.preventDefault();
  ui.dropZone.classList.add('dragging');
});
ui.dropZone.addEventListener('dragleave', () => ui.dropZone.classList.remove('dragging'));
ui.dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  ui.dropZone.classList.remove('dragging');
  const file = event.dataTransfer?.files[0] ?? imageFrom(event.dataTransfer?.items);
  if (file !== undefined) {
    void classify({ file });
    return;
  }
  // An image dragged from another page arrives as its URL.
  const url =
    (event.dataTransfer?.getData('text/uri-list') || event.dataTransfer?.getData('text/plain') || '').split('\n')[0]?.trim() ?? '';
  if (url !== '') {
    ui.imageUrl.value = url;
    void classify({ url });
  }
});
document.addEventListener('paste', (event) => {
  const file = imageFrom(event.clipboardData?.items);
  if (file === undefined) return; // text pastes as usual (a URL into the URL field)
  event.preventDefault();
  void classify({ file });
});

// ---------------------------------------------------------------------------------------------
// Start

const requested = new URLSearchParams(location.search).get('wall');
if (requested !== null && requested !== '') ui.wallId.value = requested;
updateByteCounter();
// A wall id in the address that the API refuses: its message stays shown, and the shared wall opens.
if (!(await openWall(requested === null || requested === '' ? null : requested))) await poll();
document.documentElement.dataset['ready'] = 'true';
performance.mark('app-ready');
