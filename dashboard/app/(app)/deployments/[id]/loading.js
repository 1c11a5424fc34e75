export { DeploymentLoading as default } from '../../../../views/loading.tsx';
