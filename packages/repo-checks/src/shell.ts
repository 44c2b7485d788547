// Splits the shell text of a workflow `run:` step (or a script file) into simple commands, well
// enough to find every `pnpm`/`turbo` call in it. Not a full shell parser: quoting, escapes,
// comments, line continuations, operators, redirections, heredocs, `$(…)` and backticks are
// handled; a word that depends on the environment (`$VAR`, `${{ … }}`, a substitution) is marked
// non-literal so callers can refuse to guess.

/** One shell word after quote removal. */
export interface ShellWord {
  readonly text: string;
  /** False when the word's value depends on expansion (`$VAR`, `${{ … }}`, `$(…)`, backticks). */
  readonly literal: boolean;
}

/** A simple command: its words (redirections dropped) and the 1-based line it starts on. */
export interface SimpleCommand {
  readonly words: readonly ShellWord[];
  readonly line: number;
}

const RESERVED_PREFIXES = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', 'time']);
const RESERVED_ALONE = new Set(['fi', 'done', 'esac', '}', 'else', 'then', 'do']);
const WRAPPERS = new Set(['command', 'exec', 'env']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * The simple commands of a shell script, with leading assignments, reserved words (`if`, `then`,
 * `!`, …) and wrappers (`env`, `exec`, `command`) removed, so that `words[0]` is the program.
 * Commands inside `$(…)` and backticks are returned too.
 * @example simpleCommands('cd infra && pnpm synth').map((c) => c.words.map((w) => w.text))
 *   // [['cd', 'infra'], ['pnpm', 'synth']]
 */
export function simpleCommands(script: string): SimpleCommand[] {
  return rawCommands(normalizeExpressions(script), 1)
    .map((command) => ({ ...command, words: stripPrefixes(command.words) }))
    .filter((command) => command.words.length > 0 && !['for', 'case', 'function'].includes(command.words[0]?.text ?? ''));
}

// `${{ matrix.node }}` holds spaces; squeeze it into one word that is visibly non-literal.
function normalizeExpressions(script: string): string {
  return script.replace(/\$\{\{([\s\S]*?)\}\}/g, (_match, inner: string) => `\${{${inner.replace(/\s+/g, '')}}}`);
}

function stripPrefixes(words: readonly ShellWord[]): ShellWord[] {
  let index = 0;
  while (index < words.length) {
    const word = words[index];
    if (word === undefined) break;
    if (word.literal && RESERVED_PREFIXES.has(word.text)) index++;
    else if (ASSIGNMENT.test(word.text)) index++;
    else if (word.literal && WRAPPERS.has(word.text)) index++;
    else break;
  }
  const rest = words.slice(index);
  return rest.length === 1 && rest[0]?.literal === true && RESERVED_ALONE.has(rest[0].text) ? [] : rest;
}

interface WordBuilder {
  text: string;
  literal: boolean;
  started: boolean;
}

function rawCommands(script: string, firstLine: number): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: ShellWord[] = [];
  let word: WordBuilder = { text: '', literal: true, started: false };
  let line = firstLine;
  let commandLine = firstLine;
  let dropNextWord = false;
  const heredocs: { delimiter: string; stripTabs: boolean }[] = [];

  const endWord = (): void => {
    if (word.started) {
      if (dropNextWord) dropNextWord = false;
      else words.push({ text: word.text, literal: word.literal });
    }
    word = { text: '', literal: true, started: false };
  };
  const endCommand = (): void => {
    endWord();
    if (words.length > 0) commands.push({ words, line: commandLine });
    words = [];
  };
  const startWordAt = (): void => {
    if (!word.started) {
      word.started = true;
      if (words.length === 0) commandLine = line;
    }
  };

  let i = 0;
  while (i < script.length) {
    const char = script[i] ?? '';
    const next = script[i + 1] ?? '';

    if (char === '\\' && next === '\n') {
      i += 2;
      line++;
      continue;
    }
    if (char === '\n') {
      endCommand();
      line++;
      i++;
      // Skip heredoc bodies that start after this newline.
      while (heredocs.length > 0) {
        const { delimiter, stripTabs } = heredocs.shift() ?? { delimiter: '', stripTabs: false };
        while (i < script.length) {
          const end = script.indexOf('\n', i);
          const bodyLine = script.slice(i, end === -1 ? script.length : end);
          i = end === -1 ? script.length : end + 1;
          line++;
          if ((stripTabs ? bodyLine.replace(/^\t+/, '') : bodyLine).trim() === delimiter) break;
        }
      }
      continue;
    }
    if (char === ' ' || char === '\t') {
      endWord();
      i++;
      continue;
    }
    if (char === '#' && !word.started) {
      while (i < script.length && script[i] !== '\n') i++;
      continue;
    }
    if (char === "'") {
      startWordAt();
      const end = script.indexOf("'", i + 1);
      const text = script.slice(i + 1, end === -1 ? script.length : end);
      word.text += text;
      line += countNewlines(text);
      i = end === -1 ? script.length : end + 1;
      continue;
    }
    if (char === '"') {
      startWordAt();
      i++;
      while (i < script.length && script[i] !== '"') {
        const inner = script[i] ?? '';
        if (inner === '\\' && i + 1 < script.length) {
          word.text += script[i + 1];
          i += 2;
          continue;
        }
        if (inner === '$' && script[i + 1] === '(') {
          const { body, end } = balanced(script, i + 2);
          commands.push(...rawCommands(body, line));
          word.literal = false;
          word.text += `$(${body})`;
          line += countNewlines(body);
          i = end;
          continue;
        }
        if (inner === '$' || inner === '`') word.literal = false;
        if (inner === '\n') line++;
        word.text += inner;
        i++;
      }
      i++;
      continue;
    }
    if (char === '\\') {
      startWordAt();
      word.text += next;
      i += 2;
      continue;
    }
    if (char === '$' && next === '(' && script[i + 2] !== '(') {
      startWordAt();
      const { body, end } = balanced(script, i + 2);
      commands.push(...rawCommands(body, line));
      word.literal = false;
      word.text += `$(${body})`;
      line += countNewlines(body);
      i = end;
      continue;
    }
    if (char === '`') {
      startWordAt();
      const end = script.indexOf('`', i + 1);
      const body = script.slice(i + 1, end === -1 ? script.length : end);
      commands.push(...rawCommands(body, line));
      word.literal = false;
      word.text += `\`${body}\``;
      i = end === -1 ? script.length : end + 1;
      continue;
    }
    if (char === '$') {
      startWordAt();
      word.literal = false;
      word.text += char;
      i++;
      continue;
    }
    if (char === '<' && next === '<' && script[i + 2] !== '<') {
      // A heredoc: remember its delimiter; its body starts after the end of this line.
      const match = /^<<(-?)\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2/.exec(script.slice(i));
      if (match !== null) {
        if (/^\d+$/.test(word.text) && word.started) word = { text: '', literal: true, started: false };
        endWord();
        heredocs.push({ delimiter: match[3] ?? '', stripTabs: match[1] === '-' });
        i += match[0].length;
        continue;
      }
    }
    if (char === '>' || char === '<') {
      // A redirection: drop it and its target (`2>&1`, `>> "$GITHUB_OUTPUT"`, `<<< "$x"`).
      if (word.started && /^\d+$/.test(word.text)) word = { text: '', literal: true, started: false };
      endWord();
      let j = i;
      while (script[j] === '>' || script[j] === '<' || script[j] === '|') j++;
      if (script[j] === '&') {
        j++;
        while (/[\d-]/.test(script[j] ?? '')) j++;
        i = j;
        continue;
      }
      i = j;
      dropNextWord = true;
      continue;
    }
    if (char === ';' || char === '|' || char === '&' || char === '(' || char === ')') {
      endCommand();
      i += (char === '&' || char === '|' || char === ';') && next === char ? 2 : 1;
      continue;
    }
    startWordAt();
    word.text += char;
    i++;
  }
  endCommand();
  return commands;
}

/** The text up to the `)` that closes a `$(` or `(` opened just before `start`, and the index after it. */
function balanced(script: string, start: number): { body: string; end: number } {
  let depth = 1;
  let i = start;
  let quote: string | null = null;
  while (i < script.length) {
    const char = script[i];
    if (quote !== null) {
      if (char === '\\' && quote === '"') i++;
      else if (char === quote) quote = null;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '(') {
      depth++;
    } else if (char === ')') {
      depth--;
      if (depth === 0) return { body: script.slice(start, i), end: i + 1 };
    }
    i++;
  }
  return { body: script.slice(start), end: script.length };
}

function countNewlines(text: string): number {
  let count = 0;
  for (const char of text) if (char === '\n') count++;
  return count;
}
