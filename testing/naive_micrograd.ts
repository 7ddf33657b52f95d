/**
 * A literal TypeScript port of Karpathy's micrograd (`engine.py` and
 * `nn.py`): one object per node, a closure per node for its backward step, a
 * recursive topological sort. It keeps micrograd's design on purpose, slow
 * parts included: the library's tests compare tapegrad against it, and it is
 * the `baseline` of the benchmarks (`bench/naive_micrograd.ts` runs the
 * workloads on it). Test support: not part of the published package.
 *
 * Python's operator overloads become methods: `a + b` is `a.add(b)`,
 * `2 + a` is `a.radd(2)`, `-a` is `a.neg()`, and so on, each built exactly as
 * micrograd builds it (`sub` is `add(neg)`, `div` is `mul(pow(-1))`). `exp`
 * is the one from micrograd's lecture version; `log`, which the softmax
 * cross-entropy of the MNIST-sized workload needs, is written the same way.
 *
 * One departure, which changes no float64 operation: `backward()` runs
 * micrograd's recursive `build_topo`, and only when that overflows
 * JavaScript's call stack (about 10,000 such frames) walks again with the
 * recursion on an explicit stack (same visiting order, same list). The
 * regularisation sum of a `[2, 256, 256, 1]` network is a chain of 66,561
 * additions; Python's micrograd would need `sys.setrecursionlimit` there too.
 *
 * @module
 */

/** Stores a single scalar value and its gradient (micrograd's `Value`). */
export class Value {
  /** The value computed in the forward pass. */
  data: number;
  /** d(output)/d(this), filled in by {@linkcode Value.backward}. */
  grad: number;
  /** Adds this node's contribution to its children's gradients. */
  _backward: () => void;
  /** The nodes this one was computed from. */
  _prev: Set<Value>;
  /** The op that produced this node, for graph display. */
  _op: string;

  /**
   * Creates a node.
   *
   * @param data The value.
   * @param children The operands this value was computed from.
   * @param op The op's name.
   */
  constructor(data: number, children: Value[] = [], op = "") {
    this.data = data;
    this.grad = 0;
    this._backward = () => {};
    this._prev = new Set(children);
    this._op = op;
  }

  /** `self + other` */
  add(other: Value | number): Value {
    const o = other instanceof Value ? other : new Value(other);
    const out = new Value(this.data + o.data, [this, o], "+");
    out._backward = () => {
      this.grad += out.grad;
      o.grad += out.grad;
    };
    return out;
  }

  /** `self * other` */
  mul(other: Value | number): Value {
    const o = other instanceof Value ? other : new Value(other);
    const out = new Value(this.data * o.data, [this, o], "*");
    out._backward = () => {
      this.grad += o.data * out.grad;
      o.grad += this.data * out.grad;
    };
    return out;
  }

  /** `self ** other`, for a constant exponent. */
  pow(other: number): Value {
    const out = new Value(this.data ** other, [this], `**${other}`);
    out._backward = () => {
      this.grad += (other * this.data ** (other - 1)) * out.grad;
    };
    return out;
  }

  /** `max(0, self)`, micrograd style: `0 if self.data < 0 else self.data`. */
  relu(): Value {
    const out = new Value(this.data < 0 ? 0 : this.data, [this], "ReLU");
    out._backward = () => {
      this.grad += Number(out.data > 0) * out.grad;
    };
    return out;
  }

  /** `e ** self` (micrograd's lecture version) */
  exp(): Value {
    const out = new Value(Math.exp(this.data), [this], "exp");
    out._backward = () => {
      this.grad += out.data * out.grad;
    };
    return out;
  }

  /** `ln(self)`, the natural logarithm */
  log(): Value {
    const out = new Value(Math.log(this.data), [this], "log");
    out._backward = () => {
      this.grad += (1 / this.data) * out.grad;
    };
    return out;
  }

  /** Sets `grad` on every node that this one depends on (chain rule). */
  backward(): void {
    // topological order all of the children in the graph
    let topo: Value[];
    try {
      topo = buildTopo(this);
    } catch (error) {
      // Deeper than JavaScript's call stack (see the module doc): the same
      // walk, with its recursion on an explicit stack.
      if (!(error instanceof RangeError)) throw error;
      topo = buildTopoWithStack(this);
    }
    // go one variable at a time and apply the chain rule to get its gradient
    this.grad = 1;
    for (const v of topo.reverse()) v._backward();
  }

  /** `-self` */
  neg(): Value {
    return this.mul(-1);
  }

  /** `other + self` */
  radd(other: Value | number): Value {
    return this.add(other);
  }

  /** `self - other` */
  sub(other: Value | number): Value {
    return this.add(other instanceof Value ? other.neg() : -other);
  }

  /** `other - self` */
  rsub(other: Value | number): Value {
    return this.neg().radd(other);
  }

  /** `other * self` */
  rmul(other: Value | number): Value {
    return this.mul(other);
  }

  /** `self / other` */
  div(other: Value | number): Value {
    return this.mul(other instanceof Value ? other.pow(-1) : other ** -1);
  }

  /** `other / self` */
  rdiv(other: Value | number): Value {
    return this.pow(-1).rmul(other);
  }

  /** `Value(data=…, grad=…)` */
  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }
}

/** micrograd's `build_topo`: a recursive depth-first walk of `_prev`. */
function buildTopo(root: Value): Value[] {
  const topo: Value[] = [];
  const visited = new Set<Value>();
  const build = (v: Value): void => {
    if (!visited.has(v)) {
      visited.add(v);
      for (const child of v._prev) build(child);
      topo.push(v);
    }
  };
  build(root);
  return topo;
}

/** {@linkcode buildTopo} with its recursion on an explicit stack: same order. */
function buildTopoWithStack(root: Value): Value[] {
  const topo: Value[] = [];
  const visited = new Set<Value>([root]);
  const path: Value[] = [root];
  const pending: Iterator<Value>[] = [root._prev.values()];
  while (path.length > 0) {
    const next = pending[pending.length - 1].next();
    if (next.done) {
      pending.pop();
      topo.push(path.pop()!);
    } else if (!visited.has(next.value)) {
      visited.add(next.value);
      path.push(next.value);
      pending.push(next.value._prev.values());
    }
  }
  return topo;
}

/**
 * Python's built-in `sum(iterable, start)`: `start + v0`, then `+ v1`, ….
 *
 * @param values The addends, in order.
 * @param start The initial value (Python's default, `0`).
 * @returns The sum as a graph node.
 */
export function sum(
  values: Iterable<Value>,
  start: Value | number = 0,
): Value {
  let acc: Value | number = start;
  for (const v of values) {
    acc = typeof acc === "number" ? v.radd(acc) : acc.add(v);
  }
  return typeof acc === "number" ? new Value(acc) : acc;
}

/** micrograd's `Module`: something with parameters. */
export class Module {
  /** Sets every parameter's gradient to zero. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = 0;
  }

  /** The trainable values, in micrograd order. */
  parameters(): Value[] {
    return [];
  }
}

/** One neuron: `relu(b + Σ wᵢxᵢ)`, or linear when `nonlin` is false. */
export class Neuron extends Module {
  /** The weights, one per input. */
  w: Value[];
  /** The bias. */
  b: Value;
  /** Whether a ReLU follows the weighted sum. */
  nonlin: boolean;

  /**
   * Creates a neuron with weights uniform in (-1, 1) and a zero bias.
   *
   * @param nin Number of inputs.
   * @param options `nonlin`: apply a ReLU (default `true`).
   */
  constructor(nin: number, { nonlin = true }: { nonlin?: boolean } = {}) {
    super();
    this.w = Array.from(
      { length: nin },
      () => new Value(Math.random() * 2 - 1),
    );
    this.b = new Value(0);
    this.nonlin = nonlin;
  }

  /** The neuron's output for inputs `x`. */
  call(x: Value[]): Value {
    const act = sum(this.w.map((wi, i) => wi.mul(x[i])), this.b);
    return this.nonlin ? act.relu() : act;
  }

  /** The weights, then the bias. */
  override parameters(): Value[] {
    return [...this.w, this.b];
  }

  /** `ReLUNeuron(nin)` or `LinearNeuron(nin)` */
  override toString(): string {
    return `${this.nonlin ? "ReLU" : "Linear"}Neuron(${this.w.length})`;
  }
}

/** A layer of `nout` neurons on the same `nin` inputs. */
export class Layer extends Module {
  /** The neurons. */
  neurons: Neuron[];

  /**
   * Creates a layer of fresh neurons.
   *
   * @param nin Number of inputs.
   * @param nout Number of neurons.
   * @param options Passed to every {@linkcode Neuron}.
   */
  constructor(nin: number, nout: number, options: { nonlin?: boolean } = {}) {
    super();
    this.neurons = Array.from({ length: nout }, () => new Neuron(nin, options));
  }

  /** The layer's outputs; a single `Value` when it has one neuron. */
  call(x: Value[]): Value | Value[] {
    const out = this.neurons.map((n) => n.call(x));
    return out.length === 1 ? out[0] : out;
  }

  /** Every neuron's parameters, neuron by neuron. */
  override parameters(): Value[] {
    return this.neurons.flatMap((n) => n.parameters());
  }

  /** `Layer of [ReLUNeuron(2), …]` */
  override toString(): string {
    return `Layer of [${this.neurons.join(", ")}]`;
  }
}

/** A multi-layer perceptron: ReLU layers and a linear last layer. */
export class MLP extends Module {
  /** The layers, input side first. */
  layers: Layer[];

  /**
   * Creates the layers; all but the last have a ReLU.
   *
   * @param nin Number of inputs.
   * @param nouts Size of each layer.
   */
  constructor(nin: number, nouts: number[]) {
    super();
    const sz = [nin, ...nouts];
    this.layers = nouts.map((_, i) =>
      new Layer(sz[i], sz[i + 1], { nonlin: i !== nouts.length - 1 })
    );
  }

  /** The network's output for inputs `x`. */
  call(x: Value[]): Value | Value[] {
    let out: Value | Value[] = x;
    for (const layer of this.layers) {
      out = layer.call(Array.isArray(out) ? out : [out]);
    }
    return out;
  }

  /** Every layer's parameters, layer by layer. */
  override parameters(): Value[] {
    return this.layers.flatMap((layer) => layer.parameters());
  }

  /** `MLP of [Layer of […], …]` */
  override toString(): string {
    return `MLP of [${this.layers.join(", ")}]`;
  }
}
