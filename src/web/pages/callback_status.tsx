/**
 * The host completion callback of a run, as the run page shows it (a row of the run's
 * facts, beside the completion report): "Host notified at …", "Host notification
 * failing: <error>, retry at …", "Host notification gave up …", or nothing when no
 * attempt was made (no callback URL, a preview, a run not finished).
 */
import type { HostCallbackRow } from "../../host/callback.ts";
import { escapeControls } from "../../util/text.ts";
import { Time } from "./components.tsx";

export function CallbackStatus(props: { callback: HostCallbackRow | undefined; zone: string }) {
  const { callback, zone } = props;
  if (!callback) return "";
  const error = escapeControls(callback.lastError ?? "");
  const tries = `${callback.attempts} attempt${callback.attempts === 1 ? "" : "s"}`;
  return (
    <tr>
      <th scope="row">Host notification</th>
      <td>
        {callback.status === "delivered"
          ? (
            <>
              Host notified at <Time iso={callback.deliveredAt} zone={zone} />
            </>
          )
          : callback.status === "pending"
          ? (
            <>
              Host notification failing: {error}, retry at{" "}
              <Time iso={callback.nextAttemptAt} zone={zone} /> ({tries} so far)
            </>
          )
          : callback.status === "failed"
          ? <>Host notification gave up after {tries} in 24 hours: {error}</>
          : <>Host notification being sent</>}
      </td>
    </tr>
  );
}
