/** The page shown for an error: what went wrong and where to go next. */
import type { Identity } from "../context.ts";
import { Layout } from "./layout.tsx";

const TITLES: Record<number, string> = {
  400: "The request could not be used",
  401: "Sign in to continue",
  403: "Not allowed",
  404: "Not found",
  409: "Not possible right now",
  500: "Something went wrong",
};

/** Options of {@linkcode ErrorPage}. */
export interface ErrorPageProps {
  status: number;
  message: string;
  identity?: Identity | undefined;
}

export function ErrorPage(props: ErrorPageProps) {
  const title = TITLES[props.status] ?? "Something went wrong";
  return (
    <Layout title={title} identity={props.identity}>
      <h1>{title}</h1>
      <p class="lead">{props.message}</p>
      <p>
        <a href="/">Back to AutoComm Setup</a>
        {props.identity ? "" : (
          <>
            {" · "}
            <a href="/signin">Sign in</a>
          </>
        )}
      </p>
    </Layout>
  );
}
