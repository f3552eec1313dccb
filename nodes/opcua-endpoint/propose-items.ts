// Proposes an item list by browsing a folder: every variable below it becomes an item whose twin name
// is its browse-name path from the folder (`spindle/speed`), which is how DTDL names components' contents.
import type { BrowsedNode, OpcuaConnection } from './opcua-connection';
import { ITEM_DEFAULTS, type ItemSpec } from './opcua-items';

export interface ProposedItem extends ItemSpec {
  dataType?: string;
}

/** Names a DTDL interface offers, e.g. `speed` and `spindle/speed`; when given, only matching variables are proposed. */
export type NameFilter = (name: string) => string | undefined;

export async function proposeItems(connection: OpcuaConnection, folderNodeId: string, maxDepth = 3, filter?: NameFilter): Promise<ProposedItem[]> {
  const proposed: ProposedItem[] = [];
  const visited = new Set<string>();
  const walk = async (nodeId: string, prefix: string[], depth: number): Promise<void> => {
    if (visited.has(nodeId)) return;
    visited.add(nodeId);
    const children: BrowsedNode[] = await connection.browse(nodeId);
    for (const child of children) {
      const name = child.browseName.replace(/^\d+:/, '');
      if (child.nodeClass === 'Variable') {
        const path = [...prefix, name].join('/');
        const mapped = filter ? filter(path) : path;
        if (mapped !== undefined) {
          proposed.push({ nodeId: child.nodeId, name: mapped, ...ITEM_DEFAULTS, ...(child.dataType ? { dataType: child.dataType } : {}) });
        }
      } else if (child.nodeClass === 'Object' && depth < maxDepth) {
        await walk(child.nodeId, [...prefix, name], depth + 1);
      }
    }
  };
  await walk(folderNodeId, [], 1);
  return proposed;
}

/**
 * Maps browse paths to a DTDL interface's telemetry and property paths by name: the whole path
 * (`spindle/speed`), else its ending (`CNC/spindle/speed` ends in `spindle/speed`), compared without
 * case; failing that, the variable's own name when exactly one twin path ends in it. Variables
 * that match nothing are not proposed.
 */
export function dtdlNameFilter(twinPaths: readonly string[]): NameFilter {
  const byPath = new Map(twinPaths.map((p) => [p.toLowerCase(), p]));
  const byLeaf = new Map<string, string[]>();
  for (const p of twinPaths) {
    const leaf = p.split('/').at(-1)!.toLowerCase();
    byLeaf.set(leaf, [...(byLeaf.get(leaf) ?? []), p]);
  }
  return (browsePath) => {
    const segments = browsePath.toLowerCase().split('/');
    for (let i = 0; i < segments.length; i++) {
      const found = byPath.get(segments.slice(i).join('/'));
      if (found) return found;
    }
    const leaf = byLeaf.get(segments.at(-1)!);
    return leaf?.length === 1 ? leaf[0] : undefined;
  };
}
