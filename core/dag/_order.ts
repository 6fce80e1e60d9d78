/**
 * The topological order of a graph of job indexes, and one shortest cycle of each
 * cyclic component, for validation to report.
 *
 * @module
 */

/** Kahn's algorithm, ties broken by first appearance; then one cycle per cyclic component. */
export function topologicalOrder(
  children: readonly number[][],
): { sorted: number[]; cycles: number[][] } {
  const n = children.length;
  const waiting = new Array<number>(n).fill(0);
  for (const kids of children) for (const c of kids) waiting[c]!++;
  const ready = new _MinHeap();
  for (let i = 0; i < n; i++) if (waiting[i] === 0) ready.push(i);
  const sorted: number[] = [];
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    sorted.push(i);
    for (const c of children[i]!) if (--waiting[c]! === 0) ready.push(c);
  }
  if (sorted.length === n) return { sorted, cycles: [] };
  // Jobs left over are on a cycle or downstream of one; only a job's own
  // strongly connected component holds its cycle.
  const left = new Array<boolean>(n).fill(true);
  for (const i of sorted) left[i] = false;
  const cycles = _components(children, left)
    .filter((component) => component.length > 1)
    .map((component) => _shortestCycle(children, component))
    .sort((a, b) => a[0]! - b[0]!);
  return { sorted, cycles };
}

/** Tarjan's strongly connected components of the `included` jobs, without recursion. */
function _components(children: readonly number[][], included: readonly boolean[]): number[][] {
  const n = children.length;
  const order = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (!included[root] || order[root] !== -1) continue;
    const frames: Array<{ v: number; next: number }> = [{ v: root, next: 0 }];
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const kids = children[frame.v]!;
      if (frame.next < kids.length) {
        const w = kids[frame.next++]!;
        if (!included[w]) continue;
        if (order[w] === -1) {
          order[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = true;
          frames.push({ v: w, next: 0 });
        } else if (onStack[w]) low[frame.v] = Math.min(low[frame.v]!, order[w]!);
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low[parent.v] = Math.min(low[parent.v]!, low[frame.v]!);
      if (low[frame.v] === order[frame.v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = false;
          component.push(w);
        } while (w !== frame.v);
        components.push(component);
      }
    }
  }
  return components;
}

/** The shortest cycle through the component's first-appearing job, found by BFS. */
function _shortestCycle(children: readonly number[][], component: number[]): number[] {
  const start = component.reduce((a, b) => Math.min(a, b));
  const inside = new Set(component);
  const cameFrom = new Map<number, number>([[start, -1]]);
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head]!;
    for (const w of children[v]!) {
      if (w === start) {
        const back = [start];
        for (let u = v; u !== start; u = cameFrom.get(u)!) back.push(u);
        back.push(start);
        return back.reverse();
      }
      if (inside.has(w) && !cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start]; // Unreachable: a component of two or more jobs has a cycle.
}

/** A binary min-heap of numbers, for Kahn's ready set. */
class _MinHeap {
  #items: number[] = [];
  push(value: number): void {
    const items = this.#items;
    let i = items.push(value) - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (items[up]! <= value) break;
      items[i] = items[up]!;
      i = up;
    }
    items[i] = value;
  }
  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= items.length) break;
      if (child + 1 < items.length && items[child + 1]! < items[child]!) child++;
      if (items[child]! >= last) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
