import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/**
 * Every English text the hub can put in a problem's `detail` or in an issue's `message`, read from the
 * sources with the TypeScript parser: the message of each `new DomainError(…)` (or of a subclass) and
 * `problem(…)`, and the `message` of each object literal that also has a `pointer` or a `field` (an
 * issue) or that is a decorator's options (a class-validator message). A template's interpolations
 * become `{}`, unless they can be followed to literal choices; a message passed through a constant, a
 * parameter of a helper (an exported one: its calls in every file), a constructor that keeps it, or an
 * object property is followed to the texts it can hold. What cannot be followed is returned as
 * unresolved, so a test can refuse it.
 */
export interface MessageSite {
  /** Repository-relative path and 1-based line. */
  at: string;
  kind: 'detail' | 'issue';
  /** The text with `{}` for each interpolated part. */
  shape: string;
}

export interface ScanResult {
  sites: MessageSite[];
  unresolved: { at: string; kind: MessageSite['kind']; expression: string }[];
}

const SKIP = /\.(unit|int|e2e)\.spec\.ts$|\/(testing|contract|generated)\/|\.d\.ts$/;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') sourceFiles(path, out);
    } else if (entry.name.endsWith('.ts') && !SKIP.test(path)) out.push(path);
  }
  return out;
}

const PLACEHOLDER = '{}';
const MAX_DEPTH = 6;
const MAX_CHOICES = 12;

/** A class whose constructor takes a message at `index` and keeps it for a later error. */
interface Carrier {
  className: string;
  index: number;
}

class FileScan {
  constructor(
    readonly file: ts.SourceFile,
    private unresolved: (node: ts.Node) => void,
    private readonly carried: (carrier: Carrier) => void,
    private readonly project: () => readonly FileScan[] = () => [],
  ) {}

  private inSpan = false;

  /** A constructor parameter: the texts come from the class's `new` expressions, wherever they are. */
  private constructorParameter(name: string, from: ts.Node): boolean {
    if (this.inSpan) return false;
    let cls: ts.Node | undefined = from.parent;
    while (cls && !ts.isClassDeclaration(cls)) cls = cls.parent;
    if (!cls || !ts.isClassDeclaration(cls) || !cls.name) return false;
    const ctor = cls.members.find(ts.isConstructorDeclaration);
    const index = ctor?.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === name) ?? -1;
    if (index < 0) return false;
    this.carried({ className: cls.name.text, index });
    return true;
  }

  /** The texts `expr` can evaluate to, or undefined when it cannot be followed. */
  shapes(expr: ts.Expression, depth = 0): string[] | undefined {
    if (depth > MAX_DEPTH) return undefined;
    if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr))
      return this.shapes(expr.expression, depth);
    if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) return [expr.text];
    if (ts.isTemplateExpression(expr)) {
      let out = [expr.head.text];
      for (const span of expr.templateSpans) {
        const parts = this.spanTexts(span.expression, depth);
        out = out.flatMap((head) => parts.map((p) => head + p + span.literal.text));
      }
      return out;
    }
    if (ts.isBinaryExpression(expr) && expr.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const left = this.shapes(expr.left, depth + 1);
      const right = this.shapes(expr.right, depth + 1);
      if (!left || !right) return undefined;
      return left.flatMap((l) => right.map((r) => l + r));
    }
    if (ts.isConditionalExpression(expr)) {
      const a = this.shapes(expr.whenTrue, depth + 1);
      const b = this.shapes(expr.whenFalse, depth + 1);
      return a && b ? [...a, ...b] : undefined;
    }
    if (ts.isIdentifier(expr)) return this.identifier(expr, depth);
    // `list.map((x) => `…`).join(sep)`: the text of one element.
    if (
      ts.isCallExpression(expr) &&
      ts.isPropertyAccessExpression(expr.expression) &&
      expr.expression.name.text === 'join' &&
      ts.isCallExpression(expr.expression.expression) &&
      ts.isPropertyAccessExpression(expr.expression.expression.expression) &&
      expr.expression.expression.expression.name.text === 'map'
    ) {
      const fn = expr.expression.expression.arguments[0];
      if (fn && ts.isArrowFunction(fn) && !ts.isBlock(fn.body)) return this.shapes(fn.body, depth + 1);
    }
    if (ts.isPropertyAccessExpression(expr)) {
      if (
        expr.expression.kind === ts.SyntaxKind.ThisKeyword &&
        this.constructorParameter(expr.name.text, expr)
      ) {
        return [];
      }
      return this.property(expr.name.text, depth);
    }
    return undefined;
  }

  /**
   * An interpolated part: the texts it can hold when they can be followed in this file (a literal
   * choice, a local constant, a helper's argument), a placeholder otherwise.
   */
  private spanTexts(expr: ts.Expression, depth: number): string[] {
    if (ts.isPropertyAccessExpression(expr) && expr.expression.kind !== ts.SyntaxKind.ThisKeyword) {
      const found = this.quiet(() => this.property(expr.name.text, depth + 1, true));
      if (found !== undefined && found.length > 0 && found.length <= MAX_CHOICES) return found;
    }
    if (ts.isConditionalExpression(expr) || ts.isIdentifier(expr)) {
      const found = this.quiet(() => this.shapes(expr, depth + 1));
      if (found !== undefined && found.length > 0 && found.length <= MAX_CHOICES) return found;
    }
    return [PLACEHOLDER];
  }

  /** Runs `f` without reporting what it cannot follow or where it leads: a placeholder stands for it. */
  private quiet<T>(f: () => T): T {
    const [report, inSpan] = [this.unresolved, this.inSpan];
    this.unresolved = () => undefined;
    this.inSpan = true;
    try {
      return f();
    } finally {
      this.unresolved = report;
      this.inSpan = inSpan;
    }
  }

  /** A local constant's initialiser, or, for a parameter of a local helper, the arguments of its calls. */
  private identifier(id: ts.Identifier, depth: number): string[] | undefined {
    for (let node: ts.Node | undefined = id.parent; node; node = node.parent) {
      if (ts.isConstructorDeclaration(node)) {
        if (this.constructorParameter(id.text, id)) return [];
      } else if (ts.isFunctionLike(node)) {
        const index = node.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === id.text);
        if (index >= 0) return this.argumentsOf(node, index, depth);
      }
      if (ts.isBlock(node) || ts.isSourceFile(node) || ts.isCaseClause(node)) {
        for (const statement of node.statements) {
          if (!ts.isVariableStatement(statement)) continue;
          for (const d of statement.declarationList.declarations) {
            if (ts.isIdentifier(d.name) && d.name.text === id.text && d.initializer) {
              return this.shapes(d.initializer, depth + 1);
            }
          }
        }
      }
    }
    return undefined;
  }

  private argumentsOf(fn: ts.SignatureDeclaration, index: number, depth: number): string[] | undefined {
    const name = functionName(fn);
    if (name === undefined) return undefined;
    const out: string[] = [];
    let complete = true;
    // An exported function is called from other files too: its arguments are read where they are written.
    const exported = isExported(fn);
    for (const scan of exported ? this.project() : [this]) {
      const visit = (node: ts.Node): void => {
        if (ts.isCallExpression(node) && calleeName(node.expression) === name) {
          const arg = node.arguments[index];
          if (arg !== undefined) {
            const found = this.inSpan
              ? scan.quiet(() => scan.shapes(arg, depth + 1))
              : scan.shapes(arg, depth + 1);
            if (found) out.push(...found);
            else {
              complete = false;
              if (!this.inSpan) scan.unresolved(arg);
            }
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(scan.file);
    }
    return complete || out.length > 0 ? out : undefined;
  }

  /**
   * `x.detail`: every value the file gives a property of that name, in object literals (a shorthand
   * `{ detail }` of a helper's parameter: its calls' arguments) or `this.detail =`. `helpersOnly` keeps
   * the shorthand of a helper's parameter only: a literal elsewhere may be any object's `name`.
   */
  private property(name: string, depth: number, helpersOnly = false): string[] | undefined {
    const out: string[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isShorthandPropertyAssignment(node) && node.name.text === name) {
        const found = this.quiet(() => this.identifier(node.name, depth + 1));
        if (found) out.push(...found);
      }
      if (helpersOnly) {
        ts.forEachChild(node, visit);
        return;
      }
      if (ts.isPropertyAssignment(node) && propertyName(node.name) === name) {
        const found = this.shapes(node.initializer, depth + 1);
        if (found) out.push(...found);
      }
      if (
        ts.isBinaryExpression(node) &&
        node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
        ts.isPropertyAccessExpression(node.left) &&
        node.left.name.text === name
      ) {
        const found = this.shapes(node.right, depth + 1);
        if (found) out.push(...found);
      }
      ts.forEachChild(node, visit);
    };
    visit(this.file);
    return out.length > 0 ? out : undefined;
  }
}

function functionName(fn: ts.SignatureDeclaration): string | undefined {
  if ((ts.isFunctionDeclaration(fn) || ts.isMethodDeclaration(fn)) && fn.name && ts.isIdentifier(fn.name)) {
    return fn.name.text;
  }
  const parent = fn.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return undefined;
}

function isExported(fn: ts.SignatureDeclaration): boolean {
  const holder = ts.isVariableDeclaration(fn.parent) ? fn.parent.parent.parent : fn;
  return (
    ts.canHaveModifiers(holder) &&
    (ts.getModifiers(holder) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  );
}

function calleeName(expr: ts.Expression): string | undefined {
  if (ts.isIdentifier(expr)) return expr.text;
  if (ts.isPropertyAccessExpression(expr)) return expr.name.text;
  return undefined;
}

function propertyName(name: ts.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;
}

/**
 * A class that extends DomainError and passes one of its constructor's parameters on as the message:
 * its `new` expressions carry the message at that index.
 */
type Subclasses = Map<string, number | undefined>;

function extendsName(cls: ts.ClassLikeDeclaration): string | undefined {
  const clause = cls.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword);
  const type = clause?.types[0]?.expression;
  return type && ts.isIdentifier(type) ? type.text : undefined;
}

function superCallOf(
  cls: ts.ClassLikeDeclaration,
): { ctor: ts.ConstructorDeclaration; call: ts.CallExpression } | undefined {
  const ctor = cls.members.find(ts.isConstructorDeclaration);
  let call: ts.CallExpression | undefined;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword) call = node;
    else ts.forEachChild(node, visit);
  };
  if (ctor?.body) visit(ctor.body);
  return ctor && call ? { ctor, call } : undefined;
}

/** Every class extending DomainError (directly), with the index of the constructor parameter that is its message. */
function domainErrorSubclasses(files: readonly ts.SourceFile[]): Subclasses {
  const out: Subclasses = new Map();
  for (const file of files) {
    const visit = (node: ts.Node): void => {
      if (ts.isClassDeclaration(node) && node.name && extendsName(node) === 'DomainError') {
        const found = superCallOf(node);
        const message = found?.call.arguments[1];
        const index =
          found && message && ts.isIdentifier(message)
            ? found.ctor.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === message.text)
            : -1;
        out.set(node.name.text, index >= 0 ? index : undefined);
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return out;
}

/**
 * The message argument of a `new DomainError(code, message, …)`, a `problem(code, detail, …)`, the
 * `super(code, message, …)` of a subclass (unless the message is a constructor parameter), or the
 * message parameter of a subclass's `new`.
 */
function messageArgument(node: ts.Node, subclasses: Subclasses): ts.Expression | undefined {
  if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
    if (node.expression.text === 'DomainError') return node.arguments?.[1];
    const index = subclasses.get(node.expression.text);
    if (index !== undefined) return node.arguments?.[index];
  }
  if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'problem') {
    return node.arguments[1];
  }
  if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword) {
    let cls: ts.Node | undefined = node.parent;
    while (cls && !ts.isClassLike(cls)) cls = cls.parent;
    const name = cls && ts.isClassDeclaration(cls) ? cls.name?.text : undefined;
    if (name !== undefined && subclasses.has(name) && subclasses.get(name) === undefined)
      return node.arguments[1];
  }
  return undefined;
}

/**
 * The `message` of an object literal that also has a `pointer` or a `field` (an issue), or of the options of a
 * decorator (a class-validator constraint's own message).
 */
function issueMessage(node: ts.Node): ts.Expression | undefined {
  if (!ts.isObjectLiteralExpression(node)) return undefined;
  const inDecorator = ts.isCallExpression(node.parent) && ts.isDecorator(node.parent.parent);
  const names = new Map<string, ts.ObjectLiteralElementLike>();
  for (const p of node.properties) {
    const n = p.name === undefined ? undefined : propertyName(p.name);
    if (n !== undefined) names.set(n, p);
  }
  // `field` + `message`: the payment connector's refusal of a callback member.
  if (!names.has('pointer') && !names.has('field') && !inDecorator) return undefined;
  const m = names.get('message');
  if (m === undefined) return undefined;
  if (ts.isPropertyAssignment(m)) return m.initializer;
  if (ts.isShorthandPropertyAssignment(m)) return m.name;
  return undefined;
}

/** Scans `dirs` (relative to `root`) for the messages of errors and issues. */
export function scanMessages(root: string, dirs: readonly string[]): ScanResult {
  const result: ScanResult = { sites: [], unresolved: [] };
  const files = dirs
    .flatMap((d) => sourceFiles(join(root, d)))
    .map((path) => ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true));
  const subclasses = domainErrorSubclasses(files);
  const carriers: (Carrier & { kind: MessageSite['kind'] })[] = [];
  let kind: MessageSite['kind'] = 'detail';
  const whereIn = (file: ts.SourceFile) => (node: ts.Node) =>
    `${relative(root, file.fileName)}:${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1}`;
  const scans: FileScan[] = files.map(
    (file) =>
      new FileScan(
        file,
        (node) => result.unresolved.push({ at: whereIn(file)(node), kind, expression: node.getText(file) }),
        (carrier) => carriers.push({ ...carrier, kind }),
        () => scans,
      ),
  );
  for (const scan of scans) {
    const file = scan.file;
    const where = whereIn(file);
    const visit = (node: ts.Node): void => {
      const detail = messageArgument(node, subclasses);
      const issue = detail === undefined ? issueMessage(node) : undefined;
      const expr = detail ?? issue;
      if (expr !== undefined) {
        kind = detail !== undefined ? 'detail' : 'issue';
        const shapes = scan.shapes(expr);
        if (shapes === undefined)
          result.unresolved.push({ at: where(expr), kind, expression: expr.getText(file) });
        else for (const shape of new Set(shapes)) result.sites.push({ at: where(expr), kind, shape });
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  for (const file of files) {
    const path = file.fileName;
    const where = (node: ts.Node) =>
      `${relative(root, path)}:${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1}`;
    const scan = new FileScan(
      file,
      (node) => result.unresolved.push({ at: where(node), kind: 'detail', expression: node.getText(file) }),
      () => undefined,
    );
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
        const name = node.expression.text;
        for (const c of carriers.filter((x) => x.className === name)) {
          const arg = node.arguments?.[c.index];
          if (arg === undefined) continue;
          const shapes = scan.shapes(arg);
          if (shapes === undefined)
            result.unresolved.push({ at: where(arg), kind: c.kind, expression: arg.getText(file) });
          else
            for (const shape of new Set(shapes)) result.sites.push({ at: where(arg), kind: c.kind, shape });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return result;
}
