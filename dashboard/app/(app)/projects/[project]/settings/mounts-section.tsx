import { ActionForm } from '../../../../../components/action-form.tsx';
import { EmptyState, Section } from '../../../../../components/bits.tsx';
import { addMountAction, removeMountAction } from '../../../../../lib/server/actions.ts';
import { context } from '../../../../../lib/server/context.ts';

// Multi-zone: other projects served at path prefixes of this project's hosts.
export async function MountsSection({ projectId, csrf }: { projectId: string; csrf: string }) {
  const { models } = context();
  const [project, projects] = await Promise.all([models.getProject(projectId), models.listProjects()]);
  const mounts = project?.mounts ?? [];
  const others = projects.map((p) => p.projectId).filter((p) => p !== projectId);
  const hidden = { project: projectId };
  return (
    <Section title="Mounted projects" description="Serve another project's production deployment at a path prefix of this project's hosts (multi-zone). Build it with that prefix as its basePath.">
      {mounts.length === 0 ? (
        <EmptyState title="No mounted projects">Every path of this project's hosts is served by its own deployment.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="mounts">
            <thead>
              <tr>
                <th>Prefix</th>
                <th>Served by</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {mounts.map((m) => (
                <tr key={m.prefix} data-mount={m.prefix}>
                  <td data-label="Prefix" className="mono strong">{m.prefix}/*</td>
                  <td data-label="Served by">
                    <a href={`/projects/${encodeURIComponent(m.project)}`}>{m.project}</a> <span className="muted">(production)</span>
                  </td>
                  <td>
                    <ActionForm action={removeMountAction} csrf={csrf} hidden={{ ...hidden, prefix: m.prefix }} variant="danger" submitLabel="Remove" confirm={{ title: `Stop serving ${m.prefix} from ${m.project}?`, body: <p>This project serves {m.prefix} itself again, at once.</p> }} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ActionForm action={addMountAction} csrf={csrf} hidden={hidden} name="add-mount" submitLabel="Mount" className="inline-form">
        <label className="label grow">
          Path prefix
          <input name="prefix" required placeholder="/outreach" autoComplete="off" spellCheck={false} />
        </label>
        <label className="label">
          Project
          <select name="mounted" required defaultValue="">
            <option value="" disabled>Choose a project</option>
            {others.map((p) => (
              <option key={p} value={p}>{p}</option>
            ))}
          </select>
        </label>
      </ActionForm>
    </Section>
  );
}
