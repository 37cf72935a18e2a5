import type { EmailContent } from './campaign';

/** One recipient's render: the campaign's templates and the only variables they may read. */
export interface RenderEmailInput {
  content: EmailContent;
  profile: Record<string, unknown>;
  context: Record<string, unknown>;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  /** The text template's output; without one, derived from `html` by the render thread. */
  text?: string;
}
