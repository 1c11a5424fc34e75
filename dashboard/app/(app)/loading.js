export { default } from '../../views/loading.tsx';
