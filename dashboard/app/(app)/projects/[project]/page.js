export { default } from '../../../../views/project-page.tsx';
export const metadata = { title: 'Project' };
