import './globals.css';

export { default } from '../views/root-layout.tsx';
export const metadata = { title: { default: 'shiplog', template: '%s · shiplog' }, description: 'Deployments, rollbacks and their whole history.' };
