// The import rules of docs/layout.md, as one ESLint rule: `shiplog/boundaries`.
import { dirname, relative, resolve, sep } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

/** The package a repo-relative path belongs to: `events`, `projections`, `services/<svc>`, or null. */
const packageOf = (path) => {
  const [top, second] = path.split('/');
  if (top === 'events' || top === 'projections') return top;
  if (top === 'services' && second && !second.includes('.')) return `services/${second}`;
  return null;
};

/**
 * Files other packages may import: each package's `index.ts`, and in `events/` and `projections/`
 * the `index.ts` of a sub-package (`events/store/`, `events/bus/`, `events/bus/local/`, …).
 */
const isEntry = (path, pkg) =>
  path === `${pkg}/index.ts` || ((pkg === 'events' || pkg === 'projections') && path.startsWith(`${pkg}/`) && path.endsWith('/index.ts'));

const isTest = (path) => path.startsWith('test/') || /\.test\.tsx?$/.test(path);
const isCompositionRoot = (path) => path.startsWith('infra/local/') || path.startsWith('infra/aws/') || path.startsWith('infra/aws-box/');
const isAdapter = (path) => /^services\/[^/]+\/adapters\//.test(path);
const RUNTIMES = ['infra/', 'dashboard/', 'cli/'];

/**
 * Why an import from `from` (repo-relative) of `to` (repo-relative) breaks the layout, or null.
 *
 * @example
 * violation('services/build/service.ts', 'infra/local/config.ts'); // 'services/build may not import infra/local/config.ts: …'
 */
export const violation = (from, to) => {
  const fromPkg = packageOf(from);
  const toPkg = packageOf(to);
  if (fromPkg && RUNTIMES.some((r) => to.startsWith(r))) {
    return `${fromPkg} may not import ${to}: only composition roots know their runtime (docs/layout.md)`;
  }
  if (fromPkg === 'events' && (to.startsWith('services/') || to.startsWith('projections/'))) {
    return `events/ may not import ${to}: the contract imports nothing of ours (docs/layout.md)`;
  }
  if (fromPkg?.startsWith('services/') && to.startsWith('projections/')) {
    return `${fromPkg} may not import ${to}: services read events, not read models (docs/layout.md)`;
  }
  if (fromPkg === 'services/shell' && to.startsWith('services/') && toPkg !== fromPkg) {
    return `services/shell may not import ${to}: the shell serves every service and knows none (docs/layout.md)`;
  }
  if (!toPkg || toPkg === fromPkg || isTest(from)) return null;
  if (isEntry(to, toPkg)) return null;
  if (isCompositionRoot(from) && isAdapter(to)) return null;
  return `${to} is internal to ${toPkg}: import ${toPkg}/index.ts instead (docs/layout.md)`;
};

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the package boundaries of docs/layout.md' },
    schema: [],
  },
  create(context) {
    const file = relative(root, context.filename).split(sep).join('/');
    if (file.startsWith('..')) return {};
    const check = (node) => {
      const spec = node?.type === 'Literal' && typeof node.value === 'string' ? node.value : null;
      if (!spec || !spec.startsWith('.')) return;
      const target = relative(root, resolve(dirname(context.filename), spec)).split(sep).join('/');
      const message = violation(file, target);
      if (message) context.report({ node, message });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};

/** The local plugin: `plugins: { shiplog }`, rule `shiplog/boundaries`. */
export default { meta: { name: 'shiplog' }, rules: { boundaries: rule } };
