// Node-RED adapter for the dtdl-model config node: loads DTDL documents (the package's own CNC
// models, a folder, or text pasted in the dialog) into a versioned registry that twin nodes share,
// and validates pasted text live for the dialog.
import path from 'node:path';
import type { NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import { BUILTIN_MODELS_DIR, ModelRegistry, documentsFromFolder, documentsFromText, type LoadResult, type SourcedDocument } from './model-registry';
import { locate } from './locate';
import type { DtdlModelNode } from './dtdl-model-node';

interface DtdlModelDef extends NodeDef {
  source: 'builtin' | 'folder' | 'inline';
  folder: string;
  documents: string;
  allowUndefinedExtensions: boolean;
}

type Fields = Pick<DtdlModelDef, 'source' | 'folder' | 'documents' | 'allowUndefinedExtensions'>;

export = function register(RED: NodeAPI): void {
  const userDir = RED.settings.userDir ?? process.cwd();

  function initialDocuments(fields: Fields): SourcedDocument[] {
    switch (fields.source) {
      case 'folder':
        if (!fields.folder) throw new Error('folder: the folder holding the DTDL .json files is required');
        return documentsFromFolder(path.resolve(userDir, fields.folder));
      case 'inline':
        if (!fields.documents?.trim()) throw new Error('documents: paste at least one DTDL Interface');
        return documentsFromText(fields.documents);
      default:
        return documentsFromFolder(BUILTIN_MODELS_DIR);
    }
  }

  function DtdlModel(this: DtdlModelNode, config: DtdlModelDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    node.registry = new ModelRegistry({ allowUndefinedExtensions: config.allowUndefinedExtensions === true });
    try {
      const result = node.registry.load(initialDocuments(config));
      if (!result.ok) node.loadError = summarize(result);
    } catch (err) {
      node.loadError = (err as Error).message;
    }
    if (node.loadError) node.error(`dtdl-model: ${node.loadError}`);
    node.loadDocuments = (documents: unknown[], source = 'message') => {
      const result = node.registry.load(documents.map((document, i) => ({ source: documents.length > 1 ? `${source}[${i}]` : source, document })));
      if (result.ok) node.loadError = undefined;
      return result;
    };
  }

  RED.nodes.registerType('dtdl-model', DtdlModel as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);

  // Live validation for the dialog: the same load a deployed node would do, with errors placed on lines.
  RED.httpAdmin.post('/twinflow/dtdl/validate', RED.auth.needsPermission('dtdl-model.read'), (req: Request, res: Response) => {
    const fields = (req.body ?? {}) as Fields;
    try {
      const registry = new ModelRegistry({ allowUndefinedExtensions: fields.allowUndefinedExtensions === true });
      const result = registry.load(initialDocuments(fields));
      const text = fields.source === 'inline' ? fields.documents : undefined;
      const pastedArray = text !== undefined && text.trimStart().startsWith('[') && Array.isArray(JSON.parse(text));
      res.json({
        valid: result.ok,
        interfaces: registry.interfaces,
        unresolved: result.unresolved,
        errors: result.errors.map((e) => ({ ...e, ...(text !== undefined ? { at: locate(text, e.document, e.path, pastedArray) } : {}) })),
      });
    } catch (err) {
      res.json({ valid: false, interfaces: [], unresolved: [], errors: [{ code: 'unreadable', path: '', message: (err as Error).message }] });
    }
  });
};

function summarize(result: LoadResult): string {
  const first = result.errors[0]?.message ?? (result.unresolved.length > 0 ? `unresolved references: ${result.unresolved.join(', ')}` : 'invalid models');
  return result.errors.length > 1 ? `${first} (and ${result.errors.length - 1} more)` : first;
}

