#![allow(clippy::unwrap_used, clippy::expect_used)]

use proto::v1::get_flows_response::ResponseTypes;
use proto::v1::{Direction, Endpoint, Flow, FlowState, GetFlowsResponse, LostEvent, LostEventSource, Process, Protocol};

use super::json::JsonResponse;
use super::render;

fn flow() -> Flow {
    Flow {
        id: 9,
        time_unix_nano: 1_700_000_000_123_000_000,
        node_name: "node-a".into(),
        state: FlowState::Closed as i32,
        direction: Direction::Inbound as i32,
        protocol: Protocol::Tcp as i32,
        local: Some(Endpoint { ip: "10.0.0.1".into(), port: 5432 }),
        remote: Some(Endpoint { ip: "fd00::2".into(), port: 40_000 }),
        process: Some(Process { pid: 12, command: "postgres".into(), ..Process::default() }),
        bytes_sent: 2048,
        bytes_received: 10,
        ..Flow::default()
    }
}

#[test]
fn a_flow_line_shows_who_talks_to_whom() {
    assert_eq!(
        render::flow_line(&flow()),
        "2023-11-14T22:13:20.123Z node-a: postgres[12] 10.0.0.1:5432 <- [fd00::2]:40000 tcp CLOSED sent 2.0 KiB recv 10 B"
    );
}

#[test]
fn lost_events_have_their_own_line_and_json_shape() {
    let response = GetFlowsResponse {
        response_types: Some(ResponseTypes::LostEvents(LostEvent {
            source: LostEventSource::KernelRingBuffer as i32,
            num_events_lost: 5,
            node_name: "node-b".into(),
        })),
        time_unix_nano: 0,
    };
    let line = render::response_line(&response).unwrap();
    assert!(line.contains("EVENTS LOST: 5 (kernel ring buffer full) on node node-b"), "{line}");
    let json: serde_json::Value = serde_json::to_value(JsonResponse::from(&response)).unwrap();
    assert_eq!(json["lostEvents"]["source"], "LOST_EVENT_SOURCE_KERNEL_RING_BUFFER");
    assert_eq!(json["lostEvents"]["numEventsLost"], 5);
    assert!(json.get("flow").is_none());
}

#[test]
fn flow_json_uses_proto_names_and_round_trips() {
    let response = GetFlowsResponse { response_types: Some(ResponseTypes::Flow(flow())), time_unix_nano: 1 };
    let text = serde_json::to_string(&JsonResponse::from(&response)).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["flow"]["state"], "FLOW_STATE_CLOSED");
    assert_eq!(value["flow"]["direction"], "DIRECTION_INBOUND");
    assert_eq!(value["flow"]["nodeName"], "node-a");
    assert_eq!(value["flow"]["process"]["pid"], 12);
    assert_eq!(value["flow"]["timeUnixNano"], 1_700_000_000_123_000_000_u64);
    let back: JsonResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(back, JsonResponse::from(&response));
}

#[test]
fn tables_align_columns() {
    let text = render::table(&["A", "LONGER"], &[vec!["wide cell".into(), "x".into()]]);
    assert_eq!(text, "A          LONGER\nwide cell  x\n");
    assert_eq!(render::bytes(1536), "1.5 KiB");
}
