export { default } from '../../../views/new-project-page.tsx';
export const metadata = { title: 'New project' };
