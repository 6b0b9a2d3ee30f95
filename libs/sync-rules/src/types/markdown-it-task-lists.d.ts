// markdown-it-task-lists 2.1 ships no types.
declare module 'markdown-it-task-lists' {
  import type MarkdownIt from 'markdown-it';

  interface TaskListsOptions {
    /** Render clickable checkboxes; the default (false) renders them disabled. */
    enabled?: boolean;
    label?: boolean;
    labelAfter?: boolean;
  }

  const taskLists: (md: MarkdownIt.MarkdownIt, options?: TaskListsOptions) => void;
  export = taskLists;
}
