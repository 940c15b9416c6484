// Colours, or none: NO_COLOR (https://no-color.org) turns every colour off while bold, dim and
// inverse stay, so the selection and emphasis still show. Ink's chalk does not read NO_COLOR itself.
export const noColor = (process.env.NO_COLOR ?? "") !== "";

/** The colour to draw with, or undefined (the terminal's own) when the user asked for none. */
export function tint<C extends string | undefined>(color: C): C | undefined {
  return noColor ? undefined : color;
}
