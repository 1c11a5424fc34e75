export { default } from '../../views/projects-page.tsx';
export const metadata = { title: 'Projects' };
