export { default } from '../../../views/events-page.tsx';
export const metadata = { title: 'Events' };
