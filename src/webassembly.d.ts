// The slice of the WebAssembly JS API this package uses. TypeScript ships
// these types only in lib.dom / lib.webworker and @types/node 20 has none;
// pulling in the DOM would type browser globals that do not exist in Node.
// Only internal (stripped) declarations refer to them.

declare namespace WebAssembly {
  interface Module {
    readonly __brand?: 'WebAssembly.Module';
  }
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  interface Global {
    value: unknown;
  }
  interface ModuleExportDescriptor {
    readonly kind: 'function' | 'global' | 'memory' | 'table' | 'tag';
    readonly name: string;
  }
  interface ModuleImportDescriptor extends ModuleExportDescriptor {
    readonly module: string;
  }
  const Module: {
    prototype: Module;
    new (bytes: BufferSource): Module;
    exports(module: Module): ModuleExportDescriptor[];
    imports(module: Module): ModuleImportDescriptor[];
  };
  const Instance: { prototype: Instance; new (module: Module, imports?: object): Instance };
  const Memory: { prototype: Memory; new (descriptor: { initial: number; maximum?: number }): Memory };
  const Global: { prototype: Global; new (descriptor: { value: string; mutable?: boolean }, value?: unknown): Global };
  function compile(bytes: BufferSource): Promise<Module>;
  function instantiate(module: Module, imports?: object): Promise<Instance>;
}

type BufferSource = ArrayBufferView | ArrayBuffer;
