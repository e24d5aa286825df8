/**
 * The ops of the serving forward pass (model/fused.ts), each one kernel on the wasm backend: a convolution with its
 * bias, activation (hardswish too) and residual; a dense layer with its activation; squeeze-excitation (mean, two
 * dense layers, the per-channel scale); hardswish; a global average. tfjs runs EfficientAT as ~350 kernels a call,
 * each costing microseconds of JS dispatch around its arithmetic, and hardswish alone as four passes over the
 * activation. Here the SIMD loops of wasm/serving.wat run on the backend's own memory, and convolutions and matrix
 * products are the backend's own kernel functions, called directly. Elsewhere (cpu, tfjs-node, webgl, or a wasm
 * build with shared memory) the same ops run as tf ops. Inference only: no gradients (training runs the layers). */
import * as tf from './tf.ts';
import { WASM_BASE64 } from './wasm/serving-wasm.ts';

interface Simd {
  hardswish(x: number, y: number, n: number): void;
  add(a: number, b: number, y: number, n: number): void;
  channel_mean(x: number, out: number, positions: number, channels: number, batch: number): void;
  scale_channels(x: number, s: number, y: number, positions: number, channels: number, batch: number): void;
}

/** What the kernels use of tfjs-backend-wasm's BackendWasm. */
interface WasmBackend {
  wasm: { asm?: Record<string, unknown> };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
}

export const SERVING_KERNELS = {
  hardSwish: 'SentinelHardSwish',
  conv: 'SentinelConv',
  dense: 'SentinelDense',
  squeezeExcite: 'SentinelSqueezeExcite',
  channelMean: 'SentinelChannelMean',
} as const;

const instances = new WeakMap<object, Simd | null>();

/** serving.wat instantiated on this backend's memory; null where it cannot be (no SIMD, shared memory). */
function simdOf(backend: object): Simd | null {
  if (!instances.has(backend)) {
    let simd: Simd | null = null;
    try {
      const memory = Object.values((backend as WasmBackend).wasm?.asm ?? {}).find((v) => v instanceof WebAssembly.Memory);
      const bytes = Uint8Array.from(atob(WASM_BASE64), (ch) => ch.charCodeAt(0));
      if (memory && WebAssembly.validate(bytes)) {
        simd = new WebAssembly.Instance(new WebAssembly.Module(bytes), { tfjs: { memory } }).exports as unknown as Simd;
      }
    } catch {
      simd = null; // the threaded build's memory is shared, serving.wat's is not: the tf ops instead
    }
    instances.set(backend, simd);
  }
  return instances.get(backend)!;
}

const at = (backend: WasmBackend, t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** The wasm backend's own kernel functions, looked up once. */
const backendKernels = new Map<string, tf.KernelFunc>();
function backendKernel(name: string): tf.KernelFunc {
  let f = backendKernels.get(name);
  if (!f) backendKernels.set(name, (f = tf.getKernel(name, 'wasm')!.kernelFunc));
  return f;
}

type MatMulActivation = 'linear' | 'relu' | 'relu6' | 'sigmoid';

/** The backend's _FusedMatMul on a [batch, in] x [in, out] product: [1, batch, out] (its 3-D form). */
function matMul(backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, bias: tf.TensorInfo | undefined, activation: MatMulActivation): tf.TensorInfo {
  return backendKernel('_FusedMatMul')({
    inputs: { a: { ...a, shape: [1, ...a.shape] }, b: { ...b, shape: [1, ...b.shape] }, ...(bias ? { bias } : {}) },
    attrs: { transposeA: false, transposeB: false, activation },
    backend: backend as unknown as tf.KernelBackend,
  }) as tf.TensorInfo;
}

function wasmKernels(): tf.KernelConfig[] {
  const simd = (backend: unknown) => simdOf(backend as object)!;
  return [
    {
      kernelName: SERVING_KERNELS.hardSwish,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { x } = inputs as Record<'x', tf.TensorInfo>;
        const b = backend as unknown as WasmBackend;
        const out = b.makeOutput(x.shape, 'float32');
        simd(b).hardswish(at(b, x), at(b, out), size(x.shape));
        return out;
      },
    },
    {
      // The backend's FusedConv2D / FusedDepthwiseConv2D, then hardswish and the residual in place on its fresh output.
      kernelName: SERVING_KERNELS.conv,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const b = backend as unknown as WasmBackend;
        const { depthwise, hardswish, ...convAttrs } = attrs as tf.NamedAttrMap & { depthwise: boolean; hardswish: boolean };
        const { residual, ...convInputs } = inputs as Record<string, tf.TensorInfo>;
        const out = backendKernel(depthwise ? 'FusedDepthwiseConv2D' : 'FusedConv2D')({ inputs: convInputs, attrs: convAttrs, backend }) as tf.TensorInfo;
        const n = size(out.shape);
        if (hardswish) simd(b).hardswish(at(b, out), at(b, out), n);
        if (!residual) return out;
        if (tf.util.arraysEqual(residual.shape, out.shape)) {
          simd(b).add(at(b, out), at(b, residual), at(b, out), n);
          return out;
        }
        // Broadcasting: the backend's own Add.
        const sum = backendKernel('Add')({ inputs: { a: out, b: residual }, attrs: {}, backend }) as tf.TensorInfo;
        b.disposeData(out.dataId);
        return sum;
      },
    },
    {
      // [batch, in] x [in, out] + bias, activated; the result keeps the product's memory (as the backend's Reshape does).
      kernelName: SERVING_KERNELS.dense,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const b = backend as unknown as WasmBackend;
        const { x, kernel, bias } = inputs as Record<'x' | 'kernel', tf.TensorInfo> & { bias?: tf.TensorInfo };
        const { activation } = attrs as { activation: MatMulActivation | 'hardswish' };
        const out = matMul(b, x, kernel, bias, activation === 'hardswish' ? 'linear' : activation);
        if (activation === 'hardswish') simd(b).hardswish(at(b, out), at(b, out), size(out.shape));
        return { ...out, shape: out.shape.slice(1) };
      },
    },
    {
      kernelName: SERVING_KERNELS.squeezeExcite,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { x, w1, b1, w2, b2 } = inputs as Record<'x' | 'w1' | 'b1' | 'w2' | 'b2', tf.TensorInfo>;
        const b = backend as unknown as WasmBackend;
        const [batch, height, width, channels] = x.shape;
        const mean = b.makeOutput([batch, channels], 'float32');
        simd(b).channel_mean(at(b, x), at(b, mean), height * width, channels, batch);
        const hidden = matMul(b, mean, w1, b1, 'relu');
        const gate = matMul(b, { ...hidden, shape: hidden.shape.slice(1) }, w2, b2, 'sigmoid');
        const out = b.makeOutput(x.shape, 'float32');
        simd(b).scale_channels(at(b, x), at(b, gate), at(b, out), height * width, channels, batch);
        for (const t of [mean, hidden, gate]) b.disposeData(t.dataId);
        return out;
      },
    },
    {
      kernelName: SERVING_KERNELS.channelMean,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { x } = inputs as Record<'x', tf.TensorInfo>;
        const b = backend as unknown as WasmBackend;
        const [batch, height, width, channels] = x.shape;
        const out = b.makeOutput([batch, channels], 'float32');
        simd(b).channel_mean(at(b, x), at(b, out), height * width, channels, batch);
        return out;
      },
    },
  ];
}

let checked: { backend: object; single: boolean } | undefined;

/** Whether the current backend runs these ops as single kernels (registering them the first time). */
function singleKernels(): boolean {
  const backend = tf.backend();
  if (checked?.backend !== backend) {
    const single = tf.getBackend() === 'wasm' && simdOf(backend) !== null;
    if (single && tf.getKernel(SERVING_KERNELS.hardSwish, 'wasm') == null) for (const config of wasmKernels()) tf.registerKernel(config);
    checked = { backend, single };
  }
  return checked.single;
}

/** NHWC with channels in whole SIMD lanes (the per-channel loops' layout). */
const laneAligned = (x: tf.Tensor) => x.rank === 4 && x.shape[3]! % 4 === 0 && x.shape[3]! > 0;

/** hardswish(x) = x * relu6(x + 3) / 6, in the order of the HardSwish layer's ops (same float rounding). */
export function hardSwish(x: tf.Tensor): tf.Tensor {
  if (singleKernels()) return tf.engine().runKernel(SERVING_KERNELS.hardSwish, { x }) as tf.Tensor;
  return tf.tidy(() => tf.mul(tf.mul(x, tf.relu6(tf.add(x, 3))), 1 / 6));
}

export interface ConvArgs {
  x: tf.Tensor4D;
  filter: tf.Tensor4D;
  bias?: tf.Tensor1D;
  strides: [number, number];
  pad: 'valid' | 'same' | number[][];
  dilations: [number, number];
  depthwise: boolean;
  activation: 'linear' | 'relu' | 'relu6' | 'hardswish';
  /** Added to the activated output (a residual connection), of its shape. */
  residual?: tf.Tensor;
}

/** activation(conv(x) + bias) [+ residual]: one kernel on wasm, with the least JS of tf.fused's op around it. */
export function fusedConv(args: ConvArgs): tf.Tensor {
  const { x, filter, bias, strides, pad, dilations, depthwise, residual } = args;
  const hardswish = args.activation === 'hardswish';
  const activation = args.activation === 'hardswish' ? 'linear' : args.activation;
  if (singleKernels()) {
    const attrs = { strides, pad, dilations, dataFormat: 'NHWC', activation, depthwise, hardswish } as unknown as tf.NamedAttrMap;
    const inputs = { x, filter, ...(bias ? { bias } : {}), ...(residual ? { residual } : {}) };
    return tf.engine().runKernel(SERVING_KERNELS.conv, inputs, attrs) as tf.Tensor;
  }
  const conv = { x, filter, strides, pad: pad as 'valid', dilations, bias, activation, dataFormat: 'NHWC' as const };
  return tf.tidy(() => {
    const y = depthwise ? tf.fused.depthwiseConv2d(conv) : tf.fused.conv2d(conv);
    const activated = hardswish ? hardSwish(y) : y;
    return residual ? tf.add(activated, residual) : activated;
  });
}

/** activation(x [batch, in] x kernel [in, out] + bias): one kernel on wasm. */
export function dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D | undefined, activation: MatMulActivation | 'hardswish'): tf.Tensor {
  if (singleKernels()) return tf.engine().runKernel(SERVING_KERNELS.dense, { x, kernel, ...(bias ? { bias } : {}) }, { activation } as unknown as tf.NamedAttrMap) as tf.Tensor;
  if (activation !== 'hardswish') return tf.fused.matMul({ a: x, b: kernel, bias, activation });
  return tf.tidy(() => hardSwish(tf.fused.matMul({ a: x, b: kernel, bias })));
}

/** x * sigmoid(dense(relu(dense(mean of x over height and width, w1, b1)), w2, b2)), per channel (NHWC). */
export function squeezeExcite(x: tf.Tensor4D, w1: tf.Tensor2D, b1: tf.Tensor1D, w2: tf.Tensor2D, b2: tf.Tensor1D): tf.Tensor {
  if (laneAligned(x) && singleKernels()) return tf.engine().runKernel(SERVING_KERNELS.squeezeExcite, { x, w1, b1, w2, b2 }) as tf.Tensor;
  return tf.tidy(() => {
    const hidden = tf.fused.matMul({ a: tf.mean(x, [1, 2]) as tf.Tensor2D, b: w1, bias: b1, activation: 'relu' });
    const gate = tf.fused.matMul({ a: hidden, b: w2, bias: b2, activation: 'sigmoid' });
    return tf.mul(x, tf.reshape(gate, [x.shape[0], 1, 1, x.shape[3]]));
  });
}

/** The mean of an NHWC tensor over height and width: [batch, channels]. */
export function channelMean(x: tf.Tensor): tf.Tensor {
  if (laneAligned(x) && singleKernels()) return tf.engine().runKernel(SERVING_KERNELS.channelMean, { x }) as tf.Tensor;
  return tf.mean(x, [1, 2]);
}
