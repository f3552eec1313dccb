// Evaluates a parsed query over the graph's twins.
//
// Semantics, after Azure Digital Twins (whose store is Cosmos DB):
// - A missing property is undefined; comparing undefined, or values of different types, gives
//   undefined, which NOT keeps undefined and WHERE treats as false. `IS_DEFINED` tests presence.
// - `T.spindle.speed` reads the document first (properties, `$metadata`, …) and, when the document
//   has nothing there, the last value of that Telemetry in `$telemetry` (ADT stores no telemetry).
// - MATCH: a single-hop relationship is followed as is; a `*min..max` path never visits a twin twice
//   (the start included), so cycles end a path instead of looping. Rows are distinct by the twins and
//   relationships bound to named variables. A WHERE `X.$dtId = '…'` anchors the search at that twin.
// - Rows come in creation order; TOP(n) keeps the first n; COUNT() gives [{ COUNT: n }].

import type { ModelSet } from '../../dtdl';
import { cloneJson, jsonEqual } from '../patch';
import { TwinRecord } from '../twin-state';
import type { RelationshipDocument, TwinDocument } from '../types';
import type { CompareExpr, EdgePattern, Expr, MatchPattern, QueryAst, RefExpr } from './ast';

export interface QueryContext {
  models: ModelSet;
  twins(): Iterable<TwinRecord>;
  twin(id: string): TwinRecord | undefined;
}

export type QueryRow = Record<string, unknown>;

type Bound = TwinRecord | RelationshipDocument;
type Binding = Record<string, Bound>;
type Truth = boolean | undefined;

const hasOwn = Object.prototype.hasOwnProperty;

function walk(start: unknown, path: readonly string[]): unknown {
  let value = start;
  for (const segment of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !hasOwn.call(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** The `$telemetry` key a ref could name (`positionX`, `spindle/speed`), or null when it cannot. */
function telemetryKey(ref: RefExpr): string | null {
  const path = ref.path;
  if (path.length === 0 || path.length > 2 || (path[0] as string).startsWith('$')) return null;
  return path.join('/');
}

function twinValue(doc: TwinDocument, ref: RefExpr): unknown {
  const value = walk(doc, ref.path);
  if (value !== undefined) return value;
  if (ref.telemetryKey === undefined) ref.telemetryKey = telemetryKey(ref);
  const key = ref.telemetryKey;
  return key !== null && hasOwn.call(doc.$telemetry, key) ? doc.$telemetry[key]?.value : undefined;
}

function refValue(ref: RefExpr, binding: Binding): unknown {
  const bound = binding[ref.variable];
  if (bound === undefined) return undefined;
  if (bound instanceof TwinRecord) return ref.path.length === 0 ? bound.doc : twinValue(bound.doc, ref);
  return walk(bound, ref.path);
}

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function compare(expr: CompareExpr, left: unknown, right: unknown): Truth {
  if (left === undefined || right === undefined) return undefined;
  const type = typeOf(left);
  if (type !== typeOf(right)) return undefined;
  switch (expr.op) {
    case '=':
      return jsonEqual(left, right);
    case '!=':
      return !jsonEqual(left, right);
  }
  if (type !== 'number' && type !== 'string') return undefined;
  const a = left as number | string;
  const b = right as number | string;
  switch (expr.op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

class Evaluator {
  constructor(private readonly ctx: QueryContext) {}

  value(expr: Expr, binding: Binding): unknown {
    if (expr.type === 'ref') return refValue(expr, binding);
    if (expr.type === 'literal') return expr.value;
    return this.test(expr, binding);
  }

  test(expr: Expr, binding: Binding): Truth {
    switch (expr.type) {
      case 'and': {
        let result: Truth = true;
        for (const item of expr.items) {
          const t = this.test(item, binding);
          if (t === false) return false;
          if (t === undefined) result = undefined;
        }
        return result;
      }
      case 'or': {
        let result: Truth = false;
        for (const item of expr.items) {
          const t = this.test(item, binding);
          if (t === true) return true;
          if (t === undefined) result = undefined;
        }
        return result;
      }
      case 'not': {
        const t = this.test(expr.expr, binding);
        return t === undefined ? undefined : !t;
      }
      case 'compare':
        return compare(expr, this.value(expr.left, binding), this.value(expr.right, binding));
      case 'in': {
        const v = this.value(expr.expr, binding);
        if (v === undefined) return undefined;
        const found = expr.list.some((item) => jsonEqual(item.value, v));
        return expr.negate ? !found : found;
      }
      case 'isOfModel': {
        const bound = binding[expr.variable];
        if (!(bound instanceof TwinRecord)) return false;
        return expr.exact ? bound.model === expr.model : this.ctx.models.isOfModel(bound.model, expr.model);
      }
      case 'call':
        return this.call(expr.name, expr.args.map((a) => this.value(a, binding)));
      case 'ref':
      case 'literal': {
        const v = this.value(expr, binding);
        return typeof v === 'boolean' ? v : undefined;
      }
    }
  }

  private call(name: string, args: unknown[]): Truth {
    const [a, b] = args;
    switch (name) {
      case 'IS_DEFINED':
        return a !== undefined;
      case 'IS_NULL':
        return a === null;
      case 'IS_BOOL':
        return typeof a === 'boolean';
      case 'IS_NUMBER':
        return typeof a === 'number';
      case 'IS_STRING':
        return typeof a === 'string';
      case 'IS_PRIMITIVE':
        return a === null || typeof a === 'boolean' || typeof a === 'number' || typeof a === 'string';
      case 'IS_OBJECT':
        return typeOf(a) === 'object';
      case 'STARTSWITH':
        return typeof a === 'string' && typeof b === 'string' ? a.startsWith(b) : undefined;
      case 'ENDSWITH':
        return typeof a === 'string' && typeof b === 'string' ? a.endsWith(b) : undefined;
      case 'CONTAINS':
        return typeof a === 'string' && typeof b === 'string' ? a.includes(b) : undefined;
      default:
        return undefined;
    }
  }

  /** `X.$dtId = '…'` conjuncts at the top of WHERE: where a search can start. */
  anchors(where: Expr | undefined): Map<string, string> {
    const out = new Map<string, string>();
    const conjuncts = where === undefined ? [] : where.type === 'and' ? where.items : [where];
    for (const c of conjuncts) {
      if (c.type !== 'compare' || c.op !== '=') continue;
      const pairs: [Expr, Expr][] = [
        [c.left, c.right],
        [c.right, c.left],
      ];
      for (const [ref, lit] of pairs) {
        if (ref.type === 'ref' && ref.path.length === 1 && ref.path[0] === '$dtId' && lit.type === 'literal' && typeof lit.value === 'string') out.set(ref.variable, lit.value);
      }
    }
    return out;
  }

  /** Neighbours of `twin` along one edge of the pattern, walked forwards (as written) or backwards. */
  *step(twin: TwinRecord, edge: EdgePattern, forward: boolean): Generator<{ twin: TwinRecord; rel?: RelationshipDocument }> {
    const useOut = edge.direction === 'both' || (edge.direction === 'out') === forward;
    const useIn = edge.direction === 'both' || (edge.direction === 'in') === forward;
    if (!edge.variableLength) {
      for (const [rels, outgoing] of [
        [useOut ? twin.outgoing : undefined, true],
        [useIn ? twin.incoming : undefined, false],
      ] as const) {
        if (!rels) continue;
        for (const rel of rels.values()) {
          if (edge.names.length > 0 && !edge.names.includes(rel.$relationshipName)) continue;
          const next = this.ctx.twin(outgoing ? rel.$targetId : rel.$sourceId);
          if (next) yield { twin: next, rel };
        }
      }
      return;
    }
    // Depth-first over paths that never revisit a twin; each endpoint once.
    const reached = new Set<string>();
    const found: TwinRecord[] = [];
    const onPath = new Set<string>([twin.id]);
    const visit = (at: TwinRecord, depth: number): void => {
      const neighbours: TwinRecord[] = [];
      if (useOut) for (const rel of at.outgoing.values()) if (edge.names.length === 0 || edge.names.includes(rel.$relationshipName)) neighbours.push(this.ctx.twin(rel.$targetId) as TwinRecord);
      if (useIn) for (const rel of at.incoming.values()) if (edge.names.length === 0 || edge.names.includes(rel.$relationshipName)) neighbours.push(this.ctx.twin(rel.$sourceId) as TwinRecord);
      for (const next of neighbours) {
        if (!next || onPath.has(next.id)) continue;
        if (depth >= edge.minHops && !reached.has(next.id)) {
          reached.add(next.id);
          found.push(next);
        }
        if (depth < edge.maxHops) {
          onPath.add(next.id);
          visit(next, depth + 1);
          onPath.delete(next.id);
        }
      }
    };
    visit(twin, 1);
    for (const next of found) yield { twin: next };
  }

  /** Every distinct binding of the pattern's named variables that WHERE accepts, up to `limit`. */
  match(pattern: MatchPattern, where: Expr | undefined, limit: number): Binding[] {
    const { nodes, edges } = pattern;
    const anchors = this.anchors(where);
    let start = nodes.findIndex((n) => n.variable !== '' && anchors.has(n.variable));
    let candidates: Iterable<TwinRecord>;
    if (start >= 0) {
      const twin = this.ctx.twin(anchors.get(nodes[start]?.variable as string) as string);
      candidates = twin ? [twin] : [];
    } else {
      start = 0;
      candidates = this.ctx.twins();
    }
    const order: number[] = [];
    for (let p = start; p < nodes.length; p++) order.push(p);
    for (let p = start - 1; p >= 0; p--) order.push(p);

    const placed: (TwinRecord | undefined)[] = new Array(nodes.length);
    const binding: Binding = {};
    const rows: Binding[] = [];
    const seen = new Set<string>();
    const emit = (): boolean => {
      if (where && this.test(where, binding) !== true) return false;
      const keyParts: string[] = [];
      for (const name of Object.keys(binding)) {
        const b = binding[name] as Bound;
        keyParts.push(b instanceof TwinRecord ? `t${b.id}` : `r${b.$sourceId}\u0000${b.$relationshipId}`);
      }
      const key = keyParts.join('\u0001');
      if (seen.has(key)) return false;
      seen.add(key);
      rows.push({ ...binding });
      return rows.length >= limit;
    };
    const place = (p: number, twin: TwinRecord, rel: RelationshipDocument | undefined, edgeVar: string, k: number): boolean => {
      const name = nodes[p]?.variable as string;
      const already = name === '' ? undefined : binding[name];
      if (already !== undefined && already !== twin) return false; // a repeated variable is the same twin
      placed[p] = twin;
      if (name !== '') binding[name] = twin;
      if (edgeVar !== '' && rel) binding[edgeVar] = rel;
      const done = k + 1 === order.length ? emit() : extend(k + 1);
      if (name !== '' && already === undefined) delete binding[name];
      if (edgeVar !== '') delete binding[edgeVar];
      placed[p] = undefined;
      return done;
    };
    const extend = (k: number): boolean => {
      const p = order[k] as number;
      const forward = p > start;
      const edge = edges[forward ? p - 1 : p] as EdgePattern;
      const from = placed[forward ? p - 1 : p + 1] as TwinRecord;
      for (const { twin, rel } of this.step(from, edge, forward)) if (place(p, twin, rel, edge.variable, k)) return true;
      return false;
    };
    for (const twin of candidates) if (place(start, twin, undefined, '', 0)) break;
    return rows;
  }
}

function copyBound(bound: unknown): unknown {
  return bound instanceof TwinRecord ? cloneJson(bound.doc) : cloneJson(bound);
}

export function evaluateQuery(ast: QueryAst, ctx: QueryContext): QueryRow[] {
  const evaluator = new Evaluator(ctx);
  const counting = ast.select.kind === 'count';
  const limit = counting ? Infinity : (ast.top ?? Infinity);
  let bindings: Binding[];
  if (ast.from.kind === 'match') bindings = evaluator.match(ast.from.pattern, ast.where, limit);
  else {
    const variable = ast.from.alias;
    const anchor = evaluator.anchors(ast.where).get(variable);
    const twin = anchor === undefined ? undefined : ctx.twin(anchor);
    const candidates: Iterable<TwinRecord> = anchor === undefined ? ctx.twins() : twin ? [twin] : [];
    bindings = [];
    for (const candidate of candidates) {
      const binding: Binding = { [variable]: candidate };
      if (ast.where && evaluator.test(ast.where, binding) !== true) continue;
      bindings.push(binding);
      if (bindings.length >= limit) break;
    }
  }
  if (counting) return [{ COUNT: ast.top === undefined ? bindings.length : Math.min(bindings.length, ast.top) }];
  const select = ast.select;
  if (select.kind === 'all') {
    if (ast.from.kind === 'twins') return bindings.map((b) => copyBound(b[(ast.from as { alias: string }).alias]) as QueryRow);
    return bindings.map((b) => {
      const row: QueryRow = {};
      for (const [name, bound] of Object.entries(b)) row[name] = copyBound(bound);
      return row;
    });
  }
  if (select.kind !== 'items') return [];
  return bindings.map((b) => {
    const row: QueryRow = {};
    for (const item of select.items) {
      const value = refValue(item.ref, b);
      if (value === undefined) continue;
      row[item.key] = item.ref.path.length === 0 ? copyBound(b[item.ref.variable]) : cloneJson(value);
    }
    return row;
  });
}
