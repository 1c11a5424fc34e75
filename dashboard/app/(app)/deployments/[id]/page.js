export { default } from '../../../../views/deployment-page.tsx';
export const metadata = { title: 'Deployment' };
