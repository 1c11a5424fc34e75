'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

export function ProjectTabs({ base, projectId }: { base: string; projectId: string }) {
  const path = usePathname();
  const tabs = [
    { href: base, label: 'Deployments', active: path === base },
    { href: `${base}/settings`, label: 'Settings', active: path.startsWith(`${base}/settings`) },
    { href: `/events?project=${encodeURIComponent(projectId)}`, label: 'Events', active: false },
  ];
  return (
    <nav className="tabs" aria-label="Project">
      {tabs.map((t) => (
        <Link key={t.label} href={t.href} className={t.active ? 'tab active' : 'tab'} aria-current={t.active ? 'page' : undefined}>
          {t.label}
        </Link>
      ))}
    </nav>
  );
}
