// The public face of the component edge.
export { ComponentsModule } from './components.module';
export { ComponentsService } from './components.service';
export { COMPONENT_NS } from './component-stream';
