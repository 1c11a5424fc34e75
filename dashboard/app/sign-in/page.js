export { default } from '../../views/sign-in-page.tsx';
export const metadata = { title: 'Sign in' };
