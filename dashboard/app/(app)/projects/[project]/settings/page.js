export { default } from '../../../../../views/settings-page.tsx';
export const metadata = { title: 'Settings' };
