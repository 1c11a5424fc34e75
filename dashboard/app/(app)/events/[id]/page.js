export { default } from '../../../../views/event-page.tsx';
export const metadata = { title: 'Event' };
