/**
 * Gradient kernels the wasm backend lacks (tfjs-backend-wasm 4.22): without them, fitting any Conv2D or
 * DepthwiseConv2D weight on wasm fails with "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'", so
 * only a head on frozen features could train. Each missing kernel is bridged to tfjs' own cpu implementation:
 * inputs are copied out of wasm memory, the cpu kernel runs, its result is copied back. Inference never uses them.
 */
import * as tf from './tf.ts';

/** Missing on wasm, present on cpu; the only ones MobileNetV2 training needs (checked by the model tests). */
export const BRIDGED_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

interface DataBackend {
  readSync(dataId: tf.DataId): ArrayLike<number> | Uint8Array[];
  write(values: unknown, shape: number[], dtype: tf.DataType): tf.DataId;
  disposeData(dataId: tf.DataId): boolean;
}
interface WasmBackend extends DataBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: unknown): tf.TensorInfo;
}

/** Registers the bridges for the kernels wasm still lacks; idempotent. Returns the names newly registered. */
export function registerWasmGradientKernels(): string[] {
  const registered: string[] = [];
  for (const kernelName of BRIDGED_KERNELS) {
    if (tf.getKernel(kernelName, 'wasm') != null) continue;
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    if (cpuKernel == null) continue;
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const wasm = backend as unknown as WasmBackend;
        const cpu = tf.findBackend('cpu') as unknown as DataBackend;
        const owned: tf.DataId[] = [];
        const cpuInputs: Record<string, tf.TensorInfo> = {};
        for (const [name, info] of Object.entries(inputs)) {
          if (info == null) continue;
          const dataId = cpu.write(wasm.readSync(info.dataId), info.shape, info.dtype);
          owned.push(dataId);
          cpuInputs[name] = { dataId, shape: info.shape, dtype: info.dtype };
        }
        try {
          const out = cpuKernel.kernelFunc({ inputs: cpuInputs, attrs, backend: cpu as unknown as tf.KernelBackend }) as tf.TensorInfo;
          owned.push(out.dataId);
          return wasm.makeOutput(out.shape, out.dtype, undefined, cpu.readSync(out.dataId));
        } finally {
          for (const id of owned) cpu.disposeData(id);
        }
      },
    });
    registered.push(kernelName);
  }
  return registered;
}
